import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OtaError, ioError } from './errors.js';

/** Contents of manifest.sig: a detached Ed25519 signature over the exact manifest.json bytes. */
export interface DetachedSignature {
  readonly alg: 'ed25519';
  readonly keyId: string;
  readonly sig: string;
}

/** Key id: first 16 hex digits of sha256 over the SPKI DER of the public key. */
export function keyIdOf(pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Generates an Ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateKeyPair(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Signs manifest bytes with an Ed25519 private key (PEM). */
export function signManifest(manifest: Buffer, privatePem: string): DetachedSignature {
  let key: KeyObject;
  try {
    key = createPrivateKey(privatePem);
  } catch (cause) {
    throw new OtaError('EDGEFLOW_OTA_USAGE', 'the signing key is not a PEM private key', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new OtaError(
      'EDGEFLOW_OTA_USAGE',
      `the signing key is ${key.asymmetricKeyType}, not ed25519`,
    );
  }
  const sig = sign(null, manifest, key).toString('base64');
  return { alg: 'ed25519', keyId: keyIdOf(createPublicKey(key)), sig };
}

/** Trusted public keys by key id. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** Loads every `*.pub` Ed25519 public key of a directory. */
export async function loadTrustedKeys(dir: string): Promise<TrustedKeys> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new OtaError(
      'EDGEFLOW_OTA_NO_TRUSTED_KEYS',
      `cannot read trusted keys directory ${dir}`,
      { cause },
    );
  }
  const keys = new Map<string, KeyObject>();
  for (const n of names.filter((x) => x.endsWith('.pub')).sort()) {
    const p = join(dir, n);
    let pem: string;
    try {
      pem = await readFile(p, 'utf8');
    } catch (cause) {
      throw ioError('cannot read key', p, cause);
    }
    let k: KeyObject;
    try {
      k = createPublicKey(pem);
    } catch (cause) {
      throw new OtaError('EDGEFLOW_OTA_NO_TRUSTED_KEYS', `${p} is not a PEM public key`, { cause });
    }
    if (k.asymmetricKeyType === 'ed25519') keys.set(keyIdOf(k), k);
  }
  if (keys.size === 0) {
    throw new OtaError('EDGEFLOW_OTA_NO_TRUSTED_KEYS', `no Ed25519 *.pub key in ${dir}`);
  }
  return keys;
}

/** Parses manifest.sig bytes. */
export function parseSignature(bytes: Buffer): DetachedSignature {
  let o: unknown;
  try {
    o = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new OtaError('EDGEFLOW_OTA_BAD_SIGNATURE', 'manifest.sig is not JSON', { cause });
  }
  const s = o as Partial<DetachedSignature> | null;
  if (
    !s ||
    s.alg !== 'ed25519' ||
    typeof s.keyId !== 'string' ||
    typeof s.sig !== 'string' ||
    !/^[0-9a-f]{16}$/.test(s.keyId)
  ) {
    throw new OtaError(
      'EDGEFLOW_OTA_BAD_SIGNATURE',
      'manifest.sig must be {"alg":"ed25519","keyId","sig"}',
    );
  }
  return { alg: 'ed25519', keyId: s.keyId, sig: s.sig };
}

/** Verifies a detached signature; throws UNKNOWN_KEY or BAD_SIGNATURE. Returns the key id. */
export function verifyManifest(
  manifest: Buffer,
  sig: DetachedSignature,
  keys: TrustedKeys,
): string {
  const key = keys.get(sig.keyId);
  if (!key) {
    throw new OtaError(
      'EDGEFLOW_OTA_UNKNOWN_KEY',
      `bundle signed by key ${sig.keyId}, which is not trusted`,
    );
  }
  const raw = Buffer.from(sig.sig, 'base64');
  if (raw.length !== 64 || !verify(null, manifest, key, raw)) {
    throw new OtaError(
      'EDGEFLOW_OTA_BAD_SIGNATURE',
      `signature by key ${sig.keyId} does not verify`,
    );
  }
  return sig.keyId;
}
