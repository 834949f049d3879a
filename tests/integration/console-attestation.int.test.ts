// The console's Attestation data against a real (software) TPM: enrolled with `edgeflow attest
// enroll`, golden PCRs captured with `edgeflow attest policy`; the self-check verifies against
// that enrolment and shows each PCR against the policy, and a changed golden value is reported
// as the PCR that differs (the check fails for that reason).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSwtpm, tpmTestsMissing } from 'node-tpm2/testing';
import { cliPath, startAgent } from '../helpers/agent-process.js';

const TOKEN = createHash('sha256').update('console-attestation-test').digest('hex');

interface View {
  status: { state: string };
  identity: { ekSha256: string } | null;
  check: {
    ok: boolean;
    enrolment: string;
    steps: { name: string; status: string; detail: string }[];
    policy: { source: string | null; rows: { pcr: number; match: boolean | null }[] };
  } | null;
  error?: { code: string };
}

test(
  'the self-check verifies against the enrolment file and diffs the PCRs against the golden policy',
  { skip: tpmTestsMissing() },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ef-console-attest-'));
    const tpm = await startSwtpm();
    t.after(() => tpm.stop());
    const enrolment = join(dir, 'enrolment.json');
    const policy = join(dir, 'golden.json');
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, TOKEN, { mode: 0o600 });
    const config = join(dir, 'edgeflow.json');
    await writeFile(
      config,
      JSON.stringify({
        http: {
          apiTokens: [{ name: 'ops', sha256: createHash('sha256').update(TOKEN).digest('hex') }],
          console: { enrolmentFile: enrolment, policyFile: policy },
        },
        attestation: { access: { apiTokens: ['ops'] } },
      }),
    );
    const agent = await startAgent({
      dataDir: join(dir, 'data'),
      args: ['--config', config],
      env: { EDGEFLOW_TPM_TCTI: tpm.tcti },
    });
    t.after(() => agent.stop());
    const view = async (refresh = true): Promise<View> =>
      (await (
        await agent.http(`/v1/console/attestation${refresh ? `?refresh=${Date.now()}` : ''}`)
      ).json()) as View;

    // Before enrolment: the configured file is missing, and the page says so with its code.
    let v = await view(false);
    for (let i = 0; i < 100 && v.status.state !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      v = await view(false);
    }
    assert.equal(v.status.state, 'ready');
    assert.equal(v.error?.code, 'EDGEFLOW_CONSOLE_ENROLMENT_FILE');

    const url = `http://127.0.0.1:${agent.httpPort}`;
    for (const args of [
      ['attest', 'enroll', '--agent', url, '--out', enrolment, '--token-file', tokenFile],
      [
        'attest',
        'policy',
        '--agent',
        url,
        '--out',
        policy,
        '--pcrs',
        '0-7,23',
        '--enrolment',
        enrolment,
        '--token-file',
        tokenFile,
      ],
    ]) {
      const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, `edgeflow ${args.slice(0, 2).join(' ')}: ${r.stderr}${r.stdout}`);
    }

    v = await view();
    assert.equal(v.error, undefined, JSON.stringify(v.error));
    assert.ok(v.check);
    assert.equal(
      v.check.ok,
      true,
      JSON.stringify(v.check.steps.filter((s) => s.status === 'fail')),
    );
    assert.equal(v.check.enrolment, `enrolment ${enrolment}`);
    assert.equal(v.check.policy.source, policy);
    assert.deepEqual(
      v.check.policy.rows.map((r) => [r.pcr, r.match]),
      [0, 1, 2, 3, 4, 5, 6, 7, 23].map((p) => [p, true]),
    );
    const ek = JSON.parse(await readFile(enrolment, 'utf8')) as { ekPublic: string };
    assert.equal(
      v.identity?.ekSha256,
      createHash('sha256').update(Buffer.from(ek.ekPublic, 'base64')).digest('hex'),
    );

    // A golden value that no longer matches: PCR 23 (the release) is named as the difference.
    const golden = JSON.parse(await readFile(policy, 'utf8')) as { pcrs: Record<string, string> };
    golden.pcrs['23'] = 'ab'.repeat(32);
    await writeFile(policy, JSON.stringify(golden));
    // A refresh quotes again at most every 5 s.
    await new Promise((r) => setTimeout(r, 5100));
    v = await view();
    assert.ok(v.check);
    assert.equal(v.check.ok, false);
    assert.equal(v.check.steps.find((s) => s.name === 'policy')?.status, 'fail');
    assert.deepEqual(
      v.check.policy.rows.filter((r) => r.match === false).map((r) => r.pcr),
      [23],
    );
  },
);
