// Individual verification checks. Each returns a CheckResult saying what it proved or why not.
import { constants, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Alg, hashInfo, ObjectAttr, TpmRh } from '../tpm/constants.js';
import { hierarchyQn, qualifiedName, toKeyObject, type PublicArea } from '../tpm/public.js';
import { parseSignature } from './quote-parse.js';

/** Names of the checks in a verdict (stable: scripts match on them). */
export type CheckName =
  | 'structure'
  | 'magic'
  | 'type'
  | 'akAttributes'
  | 'akBinding'
  | 'signature'
  | 'nonce'
  | 'signer'
  | 'pcrSelection'
  | 'pcrDigest'
  | 'policy'
  | 'firmware'
  | 'replay'
  | 'ekCertificate';

/** Outcome of one check. `skip` does not fail a verdict; it says why the check did not apply. */
export interface CheckResult {
  readonly name: CheckName;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

export function pass(name: CheckName, detail: string): CheckResult {
  return { name, status: 'pass', detail };
}
export function fail(name: CheckName, detail: string): CheckResult {
  return { name, status: 'fail', detail };
}
export function skip(name: CheckName, detail: string): CheckResult {
  return { name, status: 'skip', detail };
}

const REQUIRED =
  ObjectAttr.fixedTPM |
  ObjectAttr.fixedParent |
  ObjectAttr.sensitiveDataOrigin |
  ObjectAttr.restricted |
  ObjectAttr.sign;

/**
 * An AK must be a restricted signing key generated inside the TPM that cannot leave it:
 * only then does a signature over TPMS_ATTEST prove the TPM produced the structure.
 */
export function checkAkAttributes(ak: PublicArea): CheckResult {
  const missing = Object.entries(ObjectAttr)
    .filter(([, bit]) => (REQUIRED & bit) !== 0 && (ak.attributes & bit) === 0)
    .map(([k]) => k);
  if (missing.length > 0)
    return fail(
      'akAttributes',
      `AK lacks ${missing.join(', ')} (attributes 0x${ak.attributes.toString(16)})`,
    );
  if (ak.attributes & ObjectAttr.decrypt)
    return fail(
      'akAttributes',
      'AK is also a decryption key: a restricted signing key must not decrypt',
    );
  if (ak.nameAlg !== Alg.SHA256)
    return fail('akAttributes', `AK nameAlg 0x${ak.nameAlg.toString(16)} is not SHA-256`);
  return pass(
    'akAttributes',
    'restricted signing key, fixedTPM, fixedParent, sensitiveDataOrigin, nameAlg SHA-256',
  );
}

/** QN the AK must have when it was created under this EK in the endorsement hierarchy. */
export function expectedSignerQn(ek: PublicArea, ak: PublicArea): Buffer {
  return qualifiedName(qualifiedName(hierarchyQn(TpmRh.ENDORSEMENT), ek), ak);
}

/** Verifies a TPMT_SIGNATURE over `message` with the AK (RSASSA, RSA-PSS, ECDSA P-256). */
export function checkSignature(
  ak: PublicArea,
  message: Buffer,
  sigBytes: Buffer,
): CheckResult & { hash?: number } {
  let sig;
  try {
    sig = parseSignature(sigBytes);
  } catch (err) {
    return fail('signature', `TPMT_SIGNATURE does not parse: ${(err as Error).message}`);
  }
  const h = hashInfo[sig.hash];
  if (!h) return fail('signature', `unsupported signature hash 0x${sig.hash.toString(16)}`);
  let key: KeyObject;
  try {
    key = toKeyObject(ak);
  } catch (err) {
    return fail('signature', `AK public key unusable: ${(err as Error).message}`);
  }
  const isRsa = ak.type === Alg.RSA;
  let ok: boolean;
  let scheme: string;
  if (sig.alg === Alg.ECDSA) {
    if (isRsa) return fail('signature', 'ECDSA signature but the enrolled AK is an RSA key');
    scheme = 'ECDSA P-256';
    const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(Math.max(0, 32 - b.length)), b]);
    ok = cryptoVerify(
      h.name,
      message,
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.concat([pad(sig.r), pad(sig.s)]),
    );
  } else {
    if (!isRsa) return fail('signature', 'RSA signature but the enrolled AK is an ECC key');
    if (sig.alg === Alg.RSASSA) {
      scheme = 'RSASSA-PKCS1-v1_5';
      ok = cryptoVerify(h.name, message, { key, padding: constants.RSA_PKCS1_PADDING }, sig.sig);
    } else {
      scheme = 'RSA-PSS';
      // TPMs use salt length = digest length; accept any salt the encoding carries.
      ok = cryptoVerify(
        h.name,
        message,
        {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_AUTO,
        },
        sig.sig,
      );
    }
  }
  if (ak.scheme && ak.scheme.alg !== sig.alg)
    return fail(
      'signature',
      `signature scheme 0x${sig.alg.toString(16)} differs from the AK's 0x${ak.scheme.alg.toString(16)}`,
    );
  return ok
    ? {
        ...pass('signature', `${scheme}/${h.name} signature verifies with the enrolled AK`),
        hash: sig.hash,
      }
    : fail(
        'signature',
        `${scheme}/${h.name} signature does not verify with the enrolled AK (tampered attest or signature, or another key signed it)`,
      );
}

/** Digest of PCR values concatenated in selection order (TPMS_QUOTE_INFO.pcrDigest). */
export function pcrCompositeDigest(hash: number, values: readonly Buffer[]): Buffer {
  const h = hashInfo[hash];
  if (!h) throw new Error(`unsupported hash 0x${hash.toString(16)}`);
  const c = createHash(h.name);
  for (const v of values) c.update(v);
  return c.digest();
}
