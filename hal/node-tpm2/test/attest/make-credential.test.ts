// MakeCredential checked against the TPM's side of the protocol (Part 1, 24) written out here:
// recover the seed with the EK private key, check the HMAC, decrypt the credential.
import assert from 'node:assert/strict';
import {
  constants,
  createDecipheriv,
  createECDH,
  createHmac,
  generateKeyPairSync,
  privateDecrypt,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { kdfa, kdfe } from '../../src/attest/kdf.js';
import { makeCredential } from '../../src/attest/make-credential.js';
import { Reader } from '../../src/tpm/marshal.js';
import { ekTemplate, type PublicArea } from '../../src/tpm/public.js';

const akName = Buffer.concat([Buffer.from([0, 0x0b]), Buffer.alloc(32, 0xab)]);
const credential = Buffer.alloc(32, 0x5a);

function open(seed: Buffer, blob: Buffer): Buffer {
  const r = new Reader(blob, 'TPM2B_ID_OBJECT');
  const body = new Reader(r.tpm2b(), 'ID_OBJECT');
  const hmac = body.tpm2b();
  const enc = body.bytes(body.remaining);
  const hmacKey = kdfa('sha256', seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), 256);
  assert.deepEqual(
    hmac,
    createHmac('sha256', hmacKey).update(enc).update(akName).digest(),
    'outer HMAC',
  );
  const symKey = kdfa('sha256', seed, 'STORAGE', akName, Buffer.alloc(0), 128);
  const d = createDecipheriv('aes-128-cfb', symKey, Buffer.alloc(16));
  return new Reader(Buffer.concat([d.update(enc), d.final()]), 'TPM2B_DIGEST').tpm2b();
}

describe('makeCredential', () => {
  it('RSA EK: OAEP("IDENTITY") seed, KDFa keys, AES-128-CFB credential', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const n = Buffer.from(publicKey.export({ format: 'jwk' }).n as string, 'base64url');
    const ek = { ...ekTemplate('rsa'), unique: n } as PublicArea;
    const ch = makeCredential(ek, akName, credential);
    const secret = new Reader(ch.secret, 'TPM2B_ENCRYPTED_SECRET').tpm2b();
    const seed = privateDecrypt(
      {
        key: privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
        oaepLabel: Buffer.from('IDENTITY\0'),
      },
      secret,
    );
    assert.deepEqual(open(seed, ch.credentialBlob), credential);
  });

  it('ECC EK: ephemeral ECDH point, KDFe seed', () => {
    const ekKey = createECDH('prime256v1');
    ekKey.generateKeys();
    const pub = ekKey.getPublicKey();
    const ek = { ...ekTemplate('ecc'), x: pub.subarray(1, 33), y: pub.subarray(33) } as PublicArea;
    const ch = makeCredential(ek, akName, credential);
    const r = new Reader(new Reader(ch.secret, 'TPM2B_ENCRYPTED_SECRET').tpm2b(), 'TPMS_ECC_POINT');
    const x = r.tpm2b();
    const y = r.tpm2b();
    const z = ekKey.computeSecret(Buffer.concat([Buffer.from([4]), x, y]));
    const seed = kdfe('sha256', z, 'IDENTITY', x, pub.subarray(1, 33), 256);
    assert.deepEqual(open(seed, ch.credentialBlob), credential);
  });

  it('is deterministic for a given randomness source', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ek = {
      ...ekTemplate('rsa'),
      unique: Buffer.from(publicKey.export({ format: 'jwk' }).n as string, 'base64url'),
    } as PublicArea;
    const rnd = (k: number): Buffer => Buffer.alloc(k, 1);
    assert.deepEqual(
      makeCredential(ek, akName, credential, { randomBytes: rnd }).credentialBlob,
      makeCredential(ek, akName, credential, { randomBytes: rnd }).credentialBlob,
    );
  });
});
