import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { OtaError } from '../src/errors.js';
import {
  generateKeyPair,
  keyIdOf,
  parseSignature,
  signManifest,
  verifyManifest,
} from '../src/keys.js';

test('Ed25519 detached signature verifies only the exact manifest bytes with a trusted key', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  const keys = new Map([[a.keyId, createPublicKey(a.publicPem)]]);
  const m = Buffer.from('{"name":"x"}');
  const sig = signManifest(m, a.privatePem);
  assert.equal(sig.keyId, keyIdOf(createPublicKey(a.publicPem)));
  assert.equal(verifyManifest(m, parseSignature(Buffer.from(JSON.stringify(sig))), keys), a.keyId);
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return e instanceof OtaError ? e.code : 'other';
    }
  };
  assert.equal(
    code(() => verifyManifest(Buffer.from('{"name":"y"}'), sig, keys)),
    'EDGEFLOW_OTA_BAD_SIGNATURE',
  );
  assert.equal(
    code(() => verifyManifest(m, signManifest(m, b.privatePem), keys)),
    'EDGEFLOW_OTA_UNKNOWN_KEY',
  );
  // A signature by B relabelled with A's key id must still fail.
  assert.equal(
    code(() => verifyManifest(m, { ...signManifest(m, b.privatePem), keyId: a.keyId }, keys)),
    'EDGEFLOW_OTA_BAD_SIGNATURE',
  );
  assert.equal(
    code(() => parseSignature(Buffer.from('{"alg":"rsa"}'))),
    'EDGEFLOW_OTA_BAD_SIGNATURE',
  );
});
