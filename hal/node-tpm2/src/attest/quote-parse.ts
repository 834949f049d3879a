import { TpmError } from '../errors.js';
import { Alg } from '../tpm/constants.js';
import { Reader } from '../tpm/marshal.js';
import { readPcrSelection, type PcrBankSelection } from '../tpm/pcr.js';

/** A parsed TPMS_ATTEST carrying a TPMS_QUOTE_INFO (Part 2, 10.12). */
export interface QuoteAttest {
  readonly magic: number;
  readonly type: number;
  readonly qualifiedSigner: Buffer;
  readonly extraData: Buffer;
  readonly clock: bigint;
  readonly resetCount: number;
  readonly restartCount: number;
  readonly safe: boolean;
  readonly firmwareVersion: bigint;
  /** Present when `type` is TPM_ST_ATTEST_QUOTE. */
  readonly pcrSelect: PcrBankSelection[];
  readonly pcrDigest: Buffer;
}

/** Parses TPMS_ATTEST bytes (the message a quote signs). */
export function parseAttest(buf: Buffer): QuoteAttest {
  const r = new Reader(buf, 'TPMS_ATTEST');
  const magic = r.u32();
  const type = r.u16();
  const qualifiedSigner = r.tpm2b();
  const extraData = r.tpm2b();
  const clock = r.u64();
  const resetCount = r.u32();
  const restartCount = r.u32();
  const safe = r.u8() !== 0;
  const firmwareVersion = r.u64();
  const pcrSelect = readPcrSelection(r);
  const pcrDigest = r.tpm2b();
  r.end();
  return {
    magic,
    type,
    qualifiedSigner,
    extraData,
    clock,
    resetCount,
    restartCount,
    safe,
    firmwareVersion,
    pcrSelect,
    pcrDigest,
  };
}

/** A parsed TPMT_SIGNATURE: RSASSA/RSAPSS carry `sig`, ECDSA carries `r` and `s`. */
export type Signature =
  | {
      readonly alg: typeof Alg.RSASSA | typeof Alg.RSAPSS;
      readonly hash: number;
      readonly sig: Buffer;
    }
  | {
      readonly alg: typeof Alg.ECDSA;
      readonly hash: number;
      readonly r: Buffer;
      readonly s: Buffer;
    };

/** Parses TPMT_SIGNATURE bytes (RSASSA, RSA-PSS, ECDSA). */
export function parseSignature(buf: Buffer): Signature {
  const rd = new Reader(buf, 'TPMT_SIGNATURE');
  const alg = rd.u16();
  let out: Signature;
  if (alg === Alg.RSASSA || alg === Alg.RSAPSS) {
    out = { alg, hash: rd.u16(), sig: rd.tpm2b() };
  } else if (alg === Alg.ECDSA) {
    const hash = rd.u16();
    const r = rd.tpm2b();
    out = { alg, hash, r, s: rd.tpm2b() };
  } else {
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `TPMT_SIGNATURE: unsupported algorithm 0x${alg.toString(16)}`,
    );
  }
  rd.end();
  return out;
}
