import type { PcrBankSelection } from './pcr.js';
import type { PublicArea } from './public.js';

/** One PCR value read from the TPM. */
export interface PcrValue {
  readonly hash: number;
  readonly pcr: number;
  readonly digest: Buffer;
}

/** An object created or loaded in the TPM: ESYS handle plus its public area. */
export interface LoadedObject {
  readonly handle: number;
  readonly public: PublicArea;
  /** TPM2B_PUBLIC bytes exactly as the TPM returned them. */
  readonly publicBytes: Buffer;
}

/** A quote as the TPM produced it. */
export interface RawQuote {
  /** TPMS_ATTEST bytes (the signed message). */
  readonly attest: Buffer;
  /** TPMT_SIGNATURE bytes. */
  readonly signature: Buffer;
}

/**
 * What attestation needs from a TPM. {@link Tpm} implements it over tpm2-tss; tests and the
 * agent plugin take this interface so they can run against a fake.
 */
export interface TpmLike {
  startup(): Promise<void>;
  getRandom(n: number): Promise<Buffer>;
  pcrRead(sel: readonly PcrBankSelection[]): Promise<PcrValue[]>;
  pcrExtend(pcr: number, values: readonly { hash: number; digest: Buffer }[]): Promise<void>;
  pcrReset(pcr: number): Promise<void>;
  createPrimary(hierarchy: number, template: PublicArea): Promise<LoadedObject>;
  create(
    parent: number,
    template: PublicArea,
    session: number,
  ): Promise<{ private: Buffer; publicBytes: Buffer }>;
  load(parent: number, priv: Buffer, publicBytes: Buffer, session: number): Promise<number>;
  evictControl(objectHandle: number, persistentHandle: number): Promise<number>;
  readPublic(handle: number): Promise<LoadedObject & { name: Buffer; qualifiedName: Buffer }>;
  fromTpmHandle(tpmHandle: number): Promise<number>;
  nvReadAll(nvIndex: number): Promise<Buffer>;
  /** Runs `fn` with a salted policy session satisfying PolicySecret(endorsement); flushed after. */
  withEndorsementPolicy<T>(saltKey: number, fn: (session: number) => Promise<T>): Promise<T>;
  activateCredential(
    ak: number,
    ek: number,
    ekSession: number,
    blob: Buffer,
    secret: Buffer,
  ): Promise<Buffer>;
  quote(
    ak: number,
    nonce: Buffer,
    scheme: { alg: number; hash: number } | null,
    sel: readonly PcrBankSelection[],
  ): Promise<RawQuote>;
  flush(handle: number): Promise<void>;
  close(): Promise<void>;
}
