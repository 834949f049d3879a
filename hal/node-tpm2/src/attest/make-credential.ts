import {
  constants,
  createCipheriv,
  createECDH,
  createHmac,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { TpmError } from '../errors.js';
import { Alg, EccCurve, hashInfo } from '../tpm/constants.js';
import { tpm2b, Writer } from '../tpm/marshal.js';
import { toKeyObject, type PublicArea } from '../tpm/public.js';
import { kdfa, kdfe } from './kdf.js';

/** The two inputs of TPM2_ActivateCredential, marshaled with their size prefixes. */
export interface CredentialChallenge {
  /** TPM2B_ID_OBJECT. */
  readonly credentialBlob: Buffer;
  /** TPM2B_ENCRYPTED_SECRET. */
  readonly secret: Buffer;
}

/** Injected randomness (tests pass a deterministic source). */
export interface MakeCredentialDeps {
  readonly randomBytes: (n: number) => Buffer;
}

/**
 * TPM2_MakeCredential done in software (TPM 2.0 Part 1, 24): protects `credential` so that
 * only the TPM holding the private part of `ek` can recover it, and only for an object whose
 * name is `akName`. The device proves the AK is resident on that TPM by returning it.
 */
export function makeCredential(
  ek: PublicArea,
  akName: Buffer,
  credential: Buffer,
  deps: MakeCredentialDeps = { randomBytes },
): CredentialChallenge {
  const h = hashInfo[ek.nameAlg];
  if (!h)
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      `EK nameAlg 0x${ek.nameAlg.toString(16)} unsupported`,
    );
  if (!ek.symmetric || ek.symmetric.alg !== Alg.AES || ek.symmetric.mode !== Alg.CFB) {
    throw new TpmError(
      'EDGEFLOW_TPM_BAD_STRUCTURE',
      'EK must be a storage key with AES-CFB symmetric parameters',
    );
  }
  if (credential.length > h.size)
    throw new TpmError('EDGEFLOW_TPM_BAD_ARGUMENT', `credential longer than ${h.size} bytes`);
  let seed: Buffer;
  let encSecret: Buffer;
  if (ek.type === Alg.RSA) {
    seed = deps.randomBytes(h.size);
    // RSA-OAEP with the EK's nameAlg and label "IDENTITY" (Part 1, B.10.3).
    encSecret = publicEncrypt(
      {
        key: toKeyObject(ek),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: h.name,
        oaepLabel: Buffer.from('IDENTITY\0', 'latin1'),
      },
      seed,
    );
  } else {
    if (ek.curve !== EccCurve.NIST_P256)
      throw new TpmError('EDGEFLOW_TPM_BAD_STRUCTURE', 'only NIST P-256 ECC EKs are supported');
    // One-pass ECDH with an ephemeral key (Part 1, C.6.4): seed = KDFe(Z, "IDENTITY", Qe.x, Qs.x).
    const ecdh = createECDH('prime256v1');
    const priv = deps.randomBytes(32);
    ecdh.setPrivateKey(priv);
    const eph = ecdh.getPublicKey();
    const z = ecdh.computeSecret(Buffer.concat([Buffer.from([4]), ek.x, ek.y]));
    const ephX = eph.subarray(1, 33);
    const ephY = eph.subarray(33, 65);
    seed = kdfe(h.name, z, 'IDENTITY', ephX, ek.x, h.size * 8);
    encSecret = new Writer().tpm2b(ephX).tpm2b(ephY).finish();
  }
  const symKey = kdfa(h.name, seed, 'STORAGE', akName, Buffer.alloc(0), ek.symmetric.keyBits);
  const cipher = createCipheriv(`aes-${ek.symmetric.keyBits}-cfb`, symKey, Buffer.alloc(16));
  const encIdentity = Buffer.concat([cipher.update(tpm2b(credential)), cipher.final()]);
  const hmacKey = kdfa(h.name, seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), h.size * 8);
  const outerHmac = createHmac(h.name, hmacKey).update(encIdentity).update(akName).digest();
  return {
    credentialBlob: tpm2b(Buffer.concat([tpm2b(outerHmac), encIdentity])),
    secret: tpm2b(encSecret),
  };
}
