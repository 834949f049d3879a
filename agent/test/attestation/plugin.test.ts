import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { pino, type Logger } from 'pino';
import { TpmError, type TpmLike } from 'node-tpm2';
import { attestationConfigSchema } from '../../src/attestation/config.js';
import { attestationPlugin } from '../../src/attestation/plugin.js';

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const noTpm = (): Promise<TpmLike> =>
  Promise.reject(new TpmError('EDGEFLOW_TPM_UNAVAILABLE', 'TPM unavailable: install libtss2-dev'));

describe('attestation plugin without a TPM', () => {
  it('reports unavailable with one log line, answers 503 and lets the server run', async () => {
    const { log, lines } = capture();
    const app = Fastify();
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({}),
      release: 'r1',
      log,
      deps: { openTpm: noTpm },
      waitForProvisioning: true,
    });
    const res = await app.inject({ method: 'GET', url: '/v1/attestation/identity' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'EDGEFLOW_TPM_UNAVAILABLE');
    assert.match(res.json<{ error: { message: string } }>().error.message, /libtss2-dev/);
    const warn = lines.filter((l) => l['event'] === 'attestation.unavailable');
    assert.equal(warn.length, 1);
    assert.equal(app.attestation.status.state, 'unavailable');
    await app.close();
  });

  it('uses EDGEFLOW_TPM_TCTI when the config names no TCTI', async () => {
    const { log } = capture();
    const seen: string[] = [];
    const app = Fastify();
    const openTpm = (tcti: string): Promise<TpmLike> => {
      seen.push(tcti);
      return noTpm();
    };
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({}),
      release: 'r1',
      log,
      env: { EDGEFLOW_TPM_TCTI: 'swtpm:host=127.0.0.1,port=2321' },
      deps: { openTpm },
      waitForProvisioning: true,
    });
    assert.deepEqual(seen, ['swtpm:host=127.0.0.1,port=2321']);
    await app.close();
  });

  it('rejects invalid bodies with 400 and the bad path', async () => {
    const { log } = capture();
    const app = Fastify();
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({ enabled: false }),
      release: 'r1',
      log,
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      payload: { nonce: 'zz', pcrs: [24] },
    });
    assert.equal(bad.statusCode, 400);
    const body = bad.json<{ error: { code: string; details: string[] } }>();
    assert.equal(body.error.code, 'EDGEFLOW_ATTEST_BAD_REQUEST');
    assert.ok(body.error.details.some((d) => d.startsWith('body.pcrs')));
    const disabled = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      payload: { nonce: '00'.repeat(16), pcrs: [23] },
    });
    assert.equal(disabled.statusCode, 503);
    assert.match(disabled.body, /disabled/);
    await app.close();
  });

  it('validates its configuration section', () => {
    assert.equal(attestationConfigSchema.safeParse({ akHandle: 5 }).success, false);
    assert.equal(attestationConfigSchema.safeParse({ extra: 1 }).success, false);
    assert.equal(attestationConfigSchema.parse({}).releasePcr, 23);
  });
});
