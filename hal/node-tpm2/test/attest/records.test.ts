import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseActivateRequest, parseQuoteRequest } from '../../src/attest/protocol.js';
import { parseEnrolment, parsePolicy, policyPcrs } from '../../src/attest/records.js';
import { parsePcrList } from '../../src/attest/enrol.js';
import { trimDer } from '../../src/attest/ek-cert.js';
import { TpmError } from '../../src/errors.js';
import { loadRecorded } from '../helpers/fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof TpmError && e.code === c;

describe('request validation', () => {
  it('accepts a quote request and normalizes the selection', () => {
    const r = parseQuoteRequest({ nonce: 'ab'.repeat(16), pcrs: [23, 0, 23] });
    assert.deepEqual(r.selection, [{ hash: 0x0b, pcrs: [0, 23] }]);
  });
  it('rejects bad nonces, PCRs, banks and unknown keys', () => {
    for (const body of [
      null,
      { nonce: 'xy', pcrs: [0] },
      { nonce: 'ab'.repeat(4), pcrs: [0] },
      { nonce: 'ab'.repeat(16), pcrs: [24] },
      { nonce: 'ab'.repeat(16), pcrs: [] },
      { nonce: 'ab'.repeat(16), pcrs: [0], bank: 'md5' },
      { nonce: 'ab'.repeat(16), pcrs: [0], x: 1 },
    ]) {
      assert.throws(
        () => parseQuoteRequest(body),
        code('EDGEFLOW_ATTEST_BAD_REQUEST'),
        JSON.stringify(body),
      );
    }
    assert.throws(
      () => parseActivateRequest({ credentialBlob: '!!', secret: 'AA==' }),
      code('EDGEFLOW_ATTEST_BAD_REQUEST'),
    );
  });
  it('parses PCR lists with ranges', () => {
    assert.deepEqual(parsePcrList('0-3,23,2'), [0, 1, 2, 3, 23]);
    assert.throws(() => parsePcrList('0-24'), code('EDGEFLOW_ATTEST_BAD_REQUEST'));
    assert.throws(() => parsePcrList('a'), code('EDGEFLOW_ATTEST_BAD_REQUEST'));
  });
});

describe('records', () => {
  it('accepts a recorded enrolment and rejects broken ones with the path', () => {
    const e = loadRecorded().rsassa.enrolment;
    assert.equal(parseEnrolment(e, 'e.json').akName, e.akName);
    assert.throws(
      () => parseEnrolment({ ...e, ekType: 'dsa' }, 'e.json'),
      (err: unknown) =>
        code('EDGEFLOW_ATTEST_BAD_ENROLMENT')(err) && /e\.json/.test((err as Error).message),
    );
    assert.throws(
      () => parseEnrolment({ ...e, lastQuote: { clock: 1 } }, 'e.json'),
      code('EDGEFLOW_ATTEST_BAD_ENROLMENT'),
    );
  });
  it('validates policies', () => {
    const p = parsePolicy(
      { version: 1, capturedAt: 'x', bank: 'sha256', pcrs: { '23': 'ab', '0': 'cd' } },
      'p.json',
    );
    assert.deepEqual(policyPcrs(p), [0, 23]);
    assert.throws(
      () => parsePolicy({ version: 1, bank: 'sha256', pcrs: { '24': 'ab' } }, 'p.json'),
      code('EDGEFLOW_ATTEST_BAD_POLICY'),
    );
    assert.throws(
      () => parsePolicy({ version: 1, bank: 'sha256', pcrs: { '1': 'zz' } }, 'p.json'),
      code('EDGEFLOW_ATTEST_BAD_POLICY'),
    );
  });
  it('trims NV padding after a DER certificate', () => {
    const der = Buffer.from([0x30, 0x82, 0x00, 0x02, 0x05, 0x00]);
    assert.deepEqual(trimDer(Buffer.concat([der, Buffer.alloc(10, 0xff)])), der);
  });
});
