import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EK_POLICY,
  akTemplate,
  ekTemplate,
  marshalPublic,
  objectName,
  parsePublic,
  parsePublic2b,
  toKeyObject,
} from '../../src/tpm/public.js';
import { marshalPcrSelection, parsePcrSelection } from '../../src/tpm/pcr.js';
import { TpmError } from '../../src/errors.js';
import { loadRecorded } from '../helpers/fixtures.js';

describe('TPMT_PUBLIC', () => {
  it('round-trips the EK and AK templates', () => {
    for (const t of [
      ekTemplate('rsa'),
      ekTemplate('ecc'),
      akTemplate('rsassa'),
      akTemplate('rsapss'),
      akTemplate('ecdsa'),
    ]) {
      assert.deepEqual(parsePublic(marshalPublic(t)), t);
    }
  });
  it('builds the TCG EK template L-1 (attributes 0x000300b2, PolicySecret(endorsement))', () => {
    const m = marshalPublic(ekTemplate('rsa'));
    assert.equal(m.readUInt32BE(4), 0x000300b2);
    assert.deepEqual(m.subarray(10, 42), EK_POLICY);
    assert.equal(m.length, 2 + 2 + 4 + 34 + 6 + 2 + 2 + 4 + 2 + 256);
  });
  it('computes the AK name the TPM reported and converts keys for node:crypto', () => {
    for (const c of Object.values(loadRecorded())) {
      const ak = parsePublic2b(Buffer.from(c.enrolment.akPublic, 'base64'));
      assert.equal(objectName(ak).toString('hex'), c.enrolment.akName);
      assert.equal(toKeyObject(ak).type, 'public');
    }
  });
  it('fails with EDGEFLOW_TPM_BAD_STRUCTURE on truncated or trailing bytes', () => {
    const m = marshalPublic(akTemplate('rsassa'));
    assert.throws(
      () => parsePublic(m.subarray(0, m.length - 1)),
      (e: unknown) => e instanceof TpmError && e.code === 'EDGEFLOW_TPM_BAD_STRUCTURE',
    );
    assert.throws(() => parsePublic(Buffer.concat([m, Buffer.from([0])])), /trailing/);
  });
});

describe('TPML_PCR_SELECTION', () => {
  it('round-trips and rejects PCR 24', () => {
    const sel = [{ hash: 0x0b, pcrs: [0, 7, 8, 16, 23] }];
    assert.deepEqual(parsePcrSelection(marshalPcrSelection(sel)), sel);
    assert.throws(() => marshalPcrSelection([{ hash: 0x0b, pcrs: [24] }]), /outside/);
  });
});
