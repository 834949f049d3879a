// The plugin in a real fastify server on 127.0.0.1 against swtpm, driven by `edgeflow attest`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { runCli } from 'node-tpm2';
import { startSwtpm, tpmTestsMissing, type Swtpm } from 'node-tpm2/testing';
import { attestationConfigSchema } from '../../src/attestation/config.js';
import { attestationPlugin } from '../../src/attestation/plugin.js';

const missing = tpmTestsMissing();

const TOKEN = randomBytes(32).toString('hex');

async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = { EDGEFLOW_API_TOKEN: TOKEN },
): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await runCli(argv, { stdout, stderr: stdout, env });
  return { code, out };
}

describe('attestation plugin against swtpm', { skip: missing ?? false }, () => {
  let sw: Swtpm;
  let app: FastifyInstance;
  let url: string;
  let dir: string;
  before(async () => {
    sw = await startSwtpm();
    dir = await mkdtemp(join(tmpdir(), 'edgeflow-agent-attest-'));
    app = Fastify();
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({ tcti: sw.tcti, access: { apiTokens: ['verifier'] } }),
      apiTokens: [{ name: 'verifier', sha256: createHash('sha256').update(TOKEN).digest('hex') }],
      release: 'edgeflow@0.1.0',
      log: pino({ level: 'silent' }),
      waitForProvisioning: true,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app?.close();
    await sw?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('provisions at start and passes enroll, policy and verify', async () => {
    assert.equal(app.attestation.status.state, 'ready');
    const enrolment = join(dir, 'gw.json');
    const policy = join(dir, 'policy.json');
    assert.equal((await cli(['enroll', '--agent', url, '--out', enrolment])).code, 0);
    assert.equal(
      (await cli(['policy', '--agent', url, '--out', policy, '--enrolment', enrolment])).code,
      0,
    );
    const v = await cli(['verify', '--agent', url, '--enrolment', enrolment, '--policy', policy]);
    assert.equal(v.code, 0, v.out);
    assert.equal((JSON.parse(v.out) as { ok: boolean }).ok, true);
  });

  it('refuses enroll without the token, with the HTTP error named', async () => {
    const r = await cli(['enroll', '--agent', url, '--out', join(dir, 'no.json')], {});
    assert.equal(r.code, 1);
    assert.match(r.out, /HTTP 401 EDGEFLOW_HTTP_UNAUTHORIZED/);
  });

  it('answers a bad activation with 400 EDGEFLOW_ATTEST_ACTIVATION_FAILED', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/attestation/activate',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { credentialBlob: 'AAQAAAAA', secret: 'AAA=' },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(
      res.json<{ error: { code: string } }>().error.code,
      'EDGEFLOW_ATTEST_ACTIVATION_FAILED',
    );
  });
});

describe('attestation plugin when the TPM goes away', { skip: missing ?? false }, () => {
  it('the server still closes cleanly (the stop logs the failed TPM close)', async () => {
    const sw = await startSwtpm();
    const app = Fastify();
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    try {
      await app.register(attestationPlugin, {
        config: attestationConfigSchema.parse({ tcti: sw.tcti }),
        release: 'edgeflow@0.1.0',
        log,
        waitForProvisioning: true,
      });
      await app.ready();
    } finally {
      await sw.stop(); // the TPM dies while the agent runs
    }
    await app.close(); // must not reject
    assert.ok(
      lines.some((l) => /attestation\.close_(failed|timeout)/.test(l)),
      `expected a close warning, got: ${lines.join('')}`,
    );
  });
});
