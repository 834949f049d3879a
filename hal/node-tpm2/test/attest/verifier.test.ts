import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReplay, verifyQuote, type VerifyInput } from '../../src/attest/verifier.js';
import { parseAttest } from '../../src/attest/quote-parse.js';
import type { GoldenPolicy } from '../../src/attest/records.js';
import { loadRecorded, type RecordedCase } from '../helpers/fixtures.js';

const recorded = loadRecorded();

function input(c: RecordedCase, i = 0, over: Partial<VerifyInput> = {}): VerifyInput {
  const q = c.quotes[i];
  if (!q) throw new Error('fixture lacks quote');
  return {
    enrolment: c.enrolment,
    nonce: Buffer.from(q.nonce, 'hex'),
    requested: c.requested,
    response: q.response,
    ...over,
  };
}
function failed(v: { checks: readonly { name: string; status: string }[] }): string[] {
  return v.checks.filter((c) => c.status === 'fail').map((c) => c.name);
}
function flip(b64: string, at: (buf: Buffer) => number): string {
  const b = Buffer.from(b64, 'base64');
  const i = at(b);
  b[i] = (b[i] ?? 0) ^ 0x01;
  return b.toString('base64');
}
function policyOf(c: RecordedCase): GoldenPolicy {
  return {
    version: 1,
    capturedAt: '2026-01-01T00:00:00Z',
    bank: 'sha256',
    pcrs: { ...c.quotes[0]?.response.pcrs },
  };
}

for (const scheme of ['rsassa', 'rsapss', 'ecdsa'] as const) {
  const c = recorded[scheme];
  describe(`verifier on recorded ${scheme} quotes`, () => {
    it('accepts a genuine quote with every check passing or skipped for a reason', () => {
      const v = verifyQuote(input(c, 0, { policy: policyOf(c) }));
      assert.equal(v.ok, true, JSON.stringify(v.checks));
      assert.deepEqual(
        v.checks.filter((x) => x.status === 'skip').map((x) => x.name),
        ['ekCertificate'],
      );
      assert.ok(v.nextState);
    });
    it('names nonce for a wrong nonce', () => {
      assert.deepEqual(failed(verifyQuote(input(c, 0, { nonce: Buffer.alloc(32, 7) }))), ['nonce']);
    });
    it('names signature for a tampered attest or signature', () => {
      const q = c.quotes[0]!;
      const attest = flip(q.response.attest, (b) => b.length - 40);
      assert.ok(
        failed(verifyQuote(input(c, 0, { response: { ...q.response, attest } }))).includes(
          'signature',
        ),
      );
      const signature = flip(q.response.signature, (b) => b.length - 3);
      assert.deepEqual(
        failed(verifyQuote(input(c, 0, { response: { ...q.response, signature } }))),
        ['signature'],
      );
    });
    it('names magic when the structure is not TPM generated', () => {
      const q = c.quotes[0]!;
      const v = verifyQuote(
        input(c, 0, { response: { ...q.response, attest: flip(q.response.attest, () => 0) } }),
      );
      assert.ok(failed(v).includes('magic'));
    });
    it('names pcrDigest for a PCR value the quote does not cover, policy for a changed golden value', () => {
      const q = c.quotes[0]!;
      const pcrs = { ...q.response.pcrs, '23': 'ff'.repeat(32) };
      assert.ok(
        failed(verifyQuote(input(c, 0, { response: { ...q.response, pcrs } }))).includes(
          'pcrDigest',
        ),
      );
      const policy = { ...policyOf(c), pcrs: { ...policyOf(c).pcrs, '23': 'ee'.repeat(32) } };
      assert.deepEqual(failed(verifyQuote(input(c, 0, { policy }))), ['policy']);
    });
    it('names pcrSelection when the quote covers other PCRs than requested', () => {
      assert.ok(
        failed(verifyQuote(input(c, 0, { requested: { bank: 'sha256', pcrs: [23] } }))).includes(
          'pcrSelection',
        ),
      );
    });
    it('names replay for a quote older than the last accepted one', () => {
      const second = verifyQuote(input(c, 1));
      assert.equal(second.ok, true);
      const enrolment = { ...c.enrolment, lastQuote: second.nextState ?? null };
      assert.deepEqual(failed(verifyQuote(input(c, 0, { enrolment }))), ['replay']);
      assert.deepEqual(failed(verifyQuote(input(c, 1, { enrolment }))), ['replay']);
    });
    it('names firmware for a firmware version outside the allowed set', () => {
      assert.deepEqual(
        failed(
          verifyQuote(
            input(c, 0, { policy: { ...policyOf(c), firmwareVersions: ['0000000000000001'] } }),
          ),
        ),
        ['firmware'],
      );
    });
    it('names structure for bytes that are not a TPMS_ATTEST', () => {
      const q = c.quotes[0]!;
      assert.deepEqual(
        failed(verifyQuote(input(c, 0, { response: { ...q.response, attest: 'AAAA' } }))),
        ['structure'],
      );
    });
  });
}

describe('policy compares only signed PCR values (forged-PCR regression)', () => {
  const c = recorded.rsassa;
  const q = c.quotes[0]!;
  it('refuses a policy PCR outside the signed selection even when the JSON carries the golden value', () => {
    // The quote covers 0-10 and 23; a forger adds PCR 15 = the golden value to the JSON map.
    const golden = 'ab'.repeat(32);
    const policy = { ...policyOf(c), pcrs: { ...policyOf(c).pcrs, '15': golden } };
    const response = { ...q.response, pcrs: { ...q.response.pcrs, '15': golden } };
    const v = verifyQuote(input(c, 0, { policy, response }));
    assert.equal(v.ok, false, JSON.stringify(v.checks));
    assert.deepEqual(failed(v), ['policy']);
    const detail = v.checks.find((x) => x.name === 'policy')?.detail ?? '';
    assert.match(detail, /PCR 15/);
    assert.match(detail, /not in the signed selection/);
  });
  it('ignores unsigned extra JSON values the policy does not name', () => {
    const response = { ...q.response, pcrs: { ...q.response.pcrs, '15': 'cd'.repeat(32) } };
    const v = verifyQuote(input(c, 0, { policy: policyOf(c), response }));
    assert.equal(v.ok, true, JSON.stringify(v.checks));
  });
});

describe('verifier across devices', () => {
  it('names signature and signer for a quote from another TPM', () => {
    const a = recorded.rsassa;
    const b = recorded.rsapss;
    const v = verifyQuote(input(b, 0, { enrolment: a.enrolment }));
    assert.ok(
      failed(v).includes('signature') && failed(v).includes('signer'),
      JSON.stringify(v.checks),
    );
  });
  it('names signer when the enrolled EK is not the AK parent', () => {
    const a = recorded.rsassa;
    const enrolment = { ...a.enrolment, ekPublic: recorded.rsapss.enrolment.ekPublic };
    assert.deepEqual(failed(verifyQuote(input(a, 0, { enrolment }))), ['signer']);
  });
});

describe('checkReplay', () => {
  const a = parseAttest(Buffer.from(recorded.rsassa.quotes[0]!.response.attest, 'base64'));
  const last = (d: Partial<{ clock: string; resetCount: number; restartCount: number }>) => ({
    clock: a.clock.toString(),
    resetCount: a.resetCount,
    restartCount: a.restartCount,
    acceptedAt: '',
    ...d,
  });
  it('passes a reboot and says so', () => {
    const r = checkReplay({ ...a, resetCount: a.resetCount + 1, clock: 1n }, last({}));
    assert.equal(r.status, 'pass');
    assert.match(r.detail, /rebooted/);
  });
  it('fails counters that go backwards', () => {
    assert.equal(checkReplay(a, last({ resetCount: a.resetCount + 1 })).status, 'fail');
    assert.equal(checkReplay(a, last({ restartCount: a.restartCount + 1 })).status, 'fail');
    assert.equal(checkReplay(a, last({})).status, 'fail');
  });
  it('passes the first quote', () => {
    assert.equal(checkReplay(a, null).status, 'pass');
  });
});
