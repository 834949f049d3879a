// End to end against real swtpm: `attest enroll`, `attest policy`, `attest verify` over HTTP,
// then each attack the verifier must refuse, asserting the check that names it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCaptured } from '@edgeflow/core/testing';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli.js';
import { enrol } from '../../src/attest/enrol.js';
import { parseEnrolment, type EnrolmentRecord } from '../../src/attest/records.js';
import { verifyQuote, type Verdict } from '../../src/attest/verifier.js';
import { Alg } from '../../src/tpm/constants.js';
import { startDeviceRig, tpmTestsMissing, type DeviceRig } from '../helpers/fixture.js';

const missing = tpmTestsMissing();

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCaptured(runCli, argv);
}

function failed(v: Verdict | { checks: readonly { name: string; status: string }[] }): string[] {
  return v.checks.filter((c) => c.status === 'fail').map((c) => c.name);
}

describe('attest CLI against swtpm', { skip: missing ?? false }, () => {
  let a: DeviceRig;
  let b: DeviceRig;
  let dir: string;
  let record: EnrolmentRecord;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeflow-attest-'));
    a = await startDeviceRig();
    b = await startDeviceRig();
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('enroll, policy and verify succeed end to end', async () => {
    const enrolFile = join(dir, 'a.json');
    const policyFile = join(dir, 'policy.json');
    const e = await cli(['enroll', '--agent', a.url, '--out', enrolFile]);
    assert.equal(e.code, 0, e.out + e.err);
    record = parseEnrolment(JSON.parse(await readFile(enrolFile, 'utf8')), enrolFile);
    const p = await cli([
      'policy',
      '--agent',
      a.url,
      '--out',
      policyFile,
      '--pcrs',
      '0-10,16,23',
      '--enrolment',
      enrolFile,
    ]);
    assert.equal(p.code, 0, p.out + p.err);
    const v = await cli([
      'verify',
      '--agent',
      a.url,
      '--enrolment',
      enrolFile,
      '--policy',
      policyFile,
    ]);
    assert.equal(v.code, 0, v.out + v.err);
    const verdict = JSON.parse(v.out) as Verdict;
    assert.equal(verdict.ok, true);
    assert.deepEqual(failed(verdict), []);
    assert.equal(verdict.checks.find((c) => c.name === 'policy')?.status, 'pass');
    // verify stored the accepted counters; a second verify must see the clock advance.
    const again = await cli([
      'verify',
      '--agent',
      a.url,
      '--enrolment',
      enrolFile,
      '--policy',
      policyFile,
    ]);
    assert.equal(again.code, 0, again.out);
    // --no-update leaves the enrolment file exactly as it was.
    const stored = await readFile(enrolFile, 'utf8');
    const dry = await cli([
      'verify',
      '--agent',
      a.url,
      '--enrolment',
      enrolFile,
      '--policy',
      policyFile,
      '--no-update',
    ]);
    assert.equal(dry.code, 0, dry.out);
    assert.equal(await readFile(enrolFile, 'utf8'), stored);
    record = parseEnrolment(JSON.parse(await readFile(enrolFile, 'utf8')), enrolFile);
  });

  async function quoteFrom(
    rig: DeviceRig,
    pcrs = [23],
  ): Promise<{ nonce: Buffer; response: Awaited<ReturnType<DeviceRig['api']['quote']>> }> {
    const nonce = randomBytes(32);
    return { nonce, response: await rig.api.quote({ nonce: nonce.toString('hex'), pcrs }) };
  }
  const requested = { bank: 'sha256', pcrs: [23] };

  it('rejects a wrong nonce (nonce)', async () => {
    const { response } = await quoteFrom(a);
    const v = verifyQuote({ enrolment: record, nonce: randomBytes(32), requested, response });
    assert.deepEqual(failed(v), ['nonce']);
  });

  it('rejects tampered attest bytes (signature)', async () => {
    const { nonce, response } = await quoteFrom(a);
    const attest = Buffer.from(response.attest, 'base64');
    // Flip a bit of the clock field: still parses, no longer what the TPM signed.
    const qsLen = attest.readUInt16BE(6);
    const clockOffset = 8 + qsLen + 2 + attest.readUInt16BE(8 + qsLen) + 7;
    attest[clockOffset] = (attest[clockOffset] ?? 0) ^ 0x01;
    const v = verifyQuote({
      enrolment: record,
      nonce,
      requested,
      response: { ...response, attest: attest.toString('base64') },
    });
    assert.ok(failed(v).includes('signature'), JSON.stringify(v.checks));
  });

  it('rejects a tampered signature (signature)', async () => {
    const { nonce, response } = await quoteFrom(a);
    const sig = Buffer.from(response.signature, 'base64');
    sig[sig.length - 5] = (sig[sig.length - 5] ?? 0) ^ 0x80;
    const v = verifyQuote({
      enrolment: record,
      nonce,
      requested,
      response: { ...response, signature: sig.toString('base64') },
    });
    assert.deepEqual(failed(v), ['signature']);
  });

  it('rejects a PCR changed after the golden capture (policy)', async () => {
    const policyFile = join(dir, 'policy-23.json');
    assert.equal(
      (await cli(['policy', '--agent', a.url, '--out', policyFile, '--pcrs', '23'])).code,
      0,
    );
    await a.device.measureRelease('edgeflow 0.2.0-untrusted');
    const enrolFile = join(dir, 'a-policy.json');
    await writeFile(enrolFile, JSON.stringify(record));
    const v = await cli([
      'verify',
      '--agent',
      a.url,
      '--enrolment',
      enrolFile,
      '--policy',
      policyFile,
    ]);
    assert.equal(v.code, 1);
    assert.deepEqual(failed(JSON.parse(v.out) as Verdict), ['policy']);
    await a.device.measureRelease('edgeflow 0.1.0');
  });

  it('refuses a policy PCR outside the signed selection: --pcrs narrower than the policy, forged JSON values (policy)', async () => {
    // Policy over 0-10,16,23 (captured in the first test); the verifier asks only for 0-7 and a
    // forging agent adds the golden values of 8-10, 16 and 23 to the unsigned JSON map.
    const policyFile = join(dir, 'policy.json');
    const policy = JSON.parse(await readFile(policyFile, 'utf8')) as {
      pcrs: Record<string, string>;
    };
    const forging = {
      ...a.api,
      quote: async (req: Parameters<DeviceRig['api']['quote']>[0]) => {
        const r = await a.api.quote(req);
        return { ...r, pcrs: { ...policy.pcrs, ...r.pcrs } };
      },
    };
    const enrolFile = join(dir, 'a-forged.json');
    await writeFile(enrolFile, JSON.stringify(record));
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await runCli(
      [
        'verify',
        '--agent',
        'forging',
        '--enrolment',
        enrolFile,
        '--policy',
        policyFile,
        '--pcrs',
        '0-7',
      ],
      { stdout, stderr: new PassThrough(), env: {} },
      { agentApi: () => forging, now: () => new Date() },
    );
    const verdict = JSON.parse(out) as Verdict;
    assert.equal(code, 1, out);
    assert.deepEqual(failed(verdict), ['policy']);
    assert.match(
      verdict.checks.find((c) => c.name === 'policy')?.detail ?? '',
      /PCR 8, 9, 10, 16, 23, not in the signed selection/,
    );
  });

  it('rejects a device whose AK is not bound to its EK (akBinding)', async () => {
    const idA = await a.api.identity();
    const idB = await b.api.identity();
    // A man in the middle presents TPM A's EK with TPM B's AK: A cannot activate for that AK.
    const res = await enrol(
      {
        ...a.api,
        identity: () => Promise.resolve({ ...idA, akPublic: idB.akPublic, akName: idB.akName }),
      },
      { agent: 'mitm' },
    );
    assert.equal(res.ok, false);
    assert.deepEqual(failed(res), ['akBinding']);
  });

  it('rejects a replayed quote (replay)', async () => {
    const { nonce, response } = await quoteFrom(a);
    const first = verifyQuote({ enrolment: record, nonce, requested, response });
    assert.equal(first.ok, true, JSON.stringify(first.checks));
    const later = { ...record, lastQuote: first.nextState ?? null };
    const v = verifyQuote({ enrolment: later, nonce, requested, response });
    assert.deepEqual(failed(v), ['replay']);
  });

  it('rejects a quote from another TPM (signature, signer)', async () => {
    const { nonce, response } = await quoteFrom(b);
    const v = verifyQuote({ enrolment: record, nonce, requested, response });
    // B's counters are unrelated to A's, so replay may fail as well; signature and signer must.
    assert.ok(failed(v).includes('signature'), JSON.stringify(v.checks));
    assert.ok(failed(v).includes('signer'), JSON.stringify(v.checks));
    assert.equal(v.ok, false);
  });

  it('refuses to verify when the enrolment file is not one (exit 1, named code)', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version":2}');
    const v = await cli(['verify', '--agent', a.url, '--enrolment', bad]);
    assert.equal(v.code, 1);
    assert.match(v.err, /EDGEFLOW_ATTEST_BAD_ENROLMENT/);
  });

  it('verifies RSA-PSS and ECDSA attestation keys', async () => {
    for (const opts of [
      { ekType: 'rsa', akScheme: 'rsapss' },
      { ekType: 'ecc', akScheme: 'ecdsa' },
    ] as const) {
      const rig = await startDeviceRig(opts);
      try {
        const res = await enrol(rig.api, { agent: rig.url });
        assert.equal(res.ok, true, JSON.stringify(res.checks));
        const { nonce, response } = await quoteFrom(
          rig,
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 23],
        );
        const v = verifyQuote({
          enrolment: res.record as EnrolmentRecord,
          nonce,
          requested: { bank: 'sha256', pcrs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 23] },
          response,
        });
        assert.deepEqual(failed(v), [], JSON.stringify(v.checks));
        const sigAlg = Buffer.from(response.signature, 'base64').readUInt16BE(0);
        assert.equal(sigAlg, opts.akScheme === 'rsapss' ? Alg.RSAPSS : Alg.ECDSA);
      } finally {
        await rig.close();
      }
    }
  });
});
