import { createHash } from 'node:crypto';
import { TpmError, isTpmRc } from '../errors.js';
import { Alg, EkCertIndex, EsysTr, Rc, TpmRh } from '../tpm/constants.js';
import type { PcrBankSelection } from '../tpm/pcr.js';
import {
  akTemplate,
  ekTemplate,
  hierarchyQn,
  qualifiedName,
  type AkScheme,
  type EkType,
} from '../tpm/public.js';
import type { LoadedObject, PcrValue, RawQuote, TpmLike } from '../tpm/tpm-like.js';

/** Where and how the device keeps its attestation key. */
export interface DeviceOptions {
  /** EK template (TCG default): 'rsa' (RSA 2048, L-1) or 'ecc' (NIST P-256, L-2). */
  readonly ekType?: EkType;
  /** AK signing scheme; 'ecdsa' makes an ECC P-256 AK. */
  readonly akScheme?: AkScheme;
  /** Persistent handle of the AK (owner range 0x81000000-0x817FFFFF). */
  readonly akHandle?: number;
}

/** Public identity the verifier enrols: EK (and certificate), AK, and the AK's names. */
export interface DeviceIdentity {
  readonly ekType: EkType;
  /** TPM2B_PUBLIC of the EK as the TPM returned it. */
  readonly ekPublic: Buffer;
  /** DER EK certificate from its standard NV index, when the manufacturer stored one. */
  readonly ekCertificate: Buffer | null;
  readonly akPublic: Buffer;
  readonly akName: Buffer;
  readonly akQualifiedName: Buffer;
  readonly akHandle: number;
}

/** Outcome of {@link AttestationDevice.provision}. */
export interface ProvisionResult {
  readonly identity: DeviceIdentity;
  /** True when a new AK was created (first start, or the old one was not under this EK). */
  readonly akCreated: boolean;
}

/** A quote plus the PCR values it covers (the verifier recomputes the digest from them). */
export interface DeviceQuote extends RawQuote {
  readonly pcrs: PcrValue[];
}

/** Default persistent handle for the EdgeFlow AK (next to tpm2-tools' usual 0x81010001 EK). */
export const DEFAULT_AK_HANDLE = 0x81010002;

/**
 * Device side of attestation: provisions EK/AK, extends the release PCR, quotes, and answers
 * credential-activation challenges. Holds the EK loaded (transient) while it lives.
 */
export class AttestationDevice {
  private ek: LoadedObject | undefined;
  private ak: number | undefined;
  private ident: DeviceIdentity | undefined;
  private readonly ekType: EkType;
  private readonly akScheme: AkScheme;
  private readonly akHandle: number;

  constructor(
    private readonly tpm: TpmLike,
    opts: DeviceOptions = {},
  ) {
    this.ekType = opts.ekType ?? 'rsa';
    this.akScheme = opts.akScheme ?? (this.ekType === 'ecc' ? 'ecdsa' : 'rsassa');
    this.akHandle = opts.akHandle ?? DEFAULT_AK_HANDLE;
  }

  /**
   * Starts the TPM, recreates the EK from its template (same seed → same key), reads its
   * certificate, and finds the persistent AK, creating it under the EK when absent or when the
   * existing one is not a child of this EK (its qualified name would not match).
   */
  async provision(): Promise<ProvisionResult> {
    await this.tpm.startup();
    const ek = await this.tpm.createPrimary(EsysTr.RH_ENDORSEMENT, ekTemplate(this.ekType));
    this.ek = ek;
    const ekCertificate = await this.readEkCert();
    const expectedQn = (akPub: Parameters<typeof qualifiedName>[1]): Buffer =>
      qualifiedName(qualifiedName(hierarchyQn(TpmRh.ENDORSEMENT), ek.public), akPub);

    let akCreated = false;
    let ak = await this.findPersistent(this.akHandle);
    if (ak !== undefined) {
      const existing = await this.tpm.readPublic(ak);
      if (
        !existing.qualifiedName.equals(expectedQn(existing.public)) ||
        !this.schemeMatches(existing.public.scheme)
      ) {
        await this.tpm.evictControl(ak, this.akHandle);
        ak = undefined;
      }
    }
    if (ak === undefined) {
      ak = await this.createPersistentAk(ek.handle);
      akCreated = true;
    }
    this.ak = ak;
    const pub = await this.tpm.readPublic(ak);
    this.ident = {
      ekType: this.ekType,
      ekPublic: ek.publicBytes,
      ekCertificate,
      akPublic: pub.publicBytes,
      akName: pub.name,
      akQualifiedName: pub.qualifiedName,
      akHandle: this.akHandle,
    };
    return { identity: this.ident, akCreated };
  }

  /** The identity from the last {@link provision}. */
  identity(): DeviceIdentity {
    if (!this.ident)
      throw new TpmError(
        'EDGEFLOW_ATTEST_NOT_PROVISIONED',
        'attestation keys are not provisioned: call provision() first',
      );
    return this.ident;
  }

  /**
   * Puts the running release into a PCR: reset (PCR 16 and 23 are resettable at locality 0),
   * then extend with SHA-256(release). The value is therefore the same after every agent
   * restart of the same release: SHA-256(0^32 || SHA-256(release)).
   */
  async measureRelease(release: string | Buffer, pcr = 23): Promise<Buffer> {
    const digest = createHash('sha256').update(release).digest();
    await this.tpm.pcrReset(pcr);
    await this.tpm.pcrExtend(pcr, [{ hash: Alg.SHA256, digest }]);
    return digest;
  }

  /**
   * Quotes `sel` with the AK over `nonce`, and returns the PCR values read around the quote
   * (re-quoting if a PCR moved in between, so values and digest agree).
   */
  async quote(nonce: Buffer, sel: readonly PcrBankSelection[]): Promise<DeviceQuote> {
    const ak = this.requireAk();
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await this.tpm.pcrRead(sel);
      const q = await this.tpm.quote(ak, nonce, null, sel);
      const after = await this.tpm.pcrRead(sel);
      if (before.every((v, i) => after[i]?.digest.equals(v.digest))) return { ...q, pcrs: after };
    }
    throw new TpmError('EDGEFLOW_TPM_COMMAND_FAILED', 'PCRs changed during every quote attempt');
  }

  /** TPM2_ActivateCredential for the AK under the EK; returns the recovered credential. */
  async activate(credentialBlob: Buffer, secret: Buffer): Promise<Buffer> {
    const ak = this.requireAk();
    const ek = this.ek;
    if (!ek)
      throw new TpmError(
        'EDGEFLOW_ATTEST_NOT_PROVISIONED',
        'EK not loaded: call provision() first',
      );
    try {
      return await this.tpm.withEndorsementPolicy(ek.handle, (s) =>
        this.tpm.activateCredential(ak, ek.handle, s, credentialBlob, secret),
      );
    } catch (err) {
      throw new TpmError(
        'EDGEFLOW_ATTEST_ACTIVATION_FAILED',
        `credential activation refused by the TPM: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /** Flushes the transient EK and closes the TPM. */
  async close(): Promise<void> {
    try {
      if (this.ek) await this.tpm.flush(this.ek.handle);
    } finally {
      this.ek = undefined;
      await this.tpm.close();
    }
  }

  private requireAk(): number {
    if (this.ak === undefined)
      throw new TpmError(
        'EDGEFLOW_ATTEST_NOT_PROVISIONED',
        'AK not provisioned: call provision() first',
      );
    return this.ak;
  }

  private schemeMatches(scheme: { alg: number } | null): boolean {
    const want = akTemplate(this.akScheme).scheme;
    return scheme !== null && want !== null && scheme.alg === want.alg;
  }

  private async findPersistent(handle: number): Promise<number | undefined> {
    try {
      return await this.tpm.fromTpmHandle(handle);
    } catch (err) {
      if (err instanceof TpmError && err.code === 'EDGEFLOW_TPM_COMMAND_FAILED') return undefined;
      throw err;
    }
  }

  private async createPersistentAk(ekHandle: number): Promise<number> {
    const created = await this.tpm.withEndorsementPolicy(ekHandle, (s) =>
      this.tpm.create(ekHandle, akTemplate(this.akScheme), s),
    );
    const loaded = await this.tpm.withEndorsementPolicy(ekHandle, (s) =>
      this.tpm.load(ekHandle, created.private, created.publicBytes, s),
    );
    try {
      return await this.tpm.evictControl(loaded, this.akHandle);
    } finally {
      await this.tpm.flush(loaded);
    }
  }

  private async readEkCert(): Promise<Buffer | null> {
    const index = this.ekType === 'rsa' ? EkCertIndex.RSA2048 : EkCertIndex.ECC_P256;
    try {
      return await this.tpm.nvReadAll(index);
    } catch (err) {
      // No certificate provisioned (swtpm without --create-ek-cert, many fTPMs): not an error.
      if (
        err instanceof TpmError &&
        (err.code === 'EDGEFLOW_TPM_COMMAND_FAILED' || isTpmRc(err, Rc.HANDLE))
      )
        return null;
      throw err;
    }
  }
}
