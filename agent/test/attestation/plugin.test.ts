import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

const GRANTED = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
function tokenEntry(name: string, token: string): { name: string; sha256: string } {
  return { name, sha256: createHash('sha256').update(token).digest('hex') };
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
      config: attestationConfigSchema.parse({
        enabled: false,
        access: { apiTokens: ['verifier'] },
      }),
      apiTokens: [tokenEntry('verifier', GRANTED)],
      release: 'r1',
      log,
    });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      headers: { authorization: `Bearer ${GRANTED}` },
      payload: { nonce: 'zz', pcrs: [24] },
    });
    assert.equal(bad.statusCode, 400);
    const body = bad.json<{ error: { code: string; details: string[] } }>();
    assert.equal(body.error.code, 'EDGEFLOW_ATTEST_BAD_REQUEST');
    assert.ok(body.error.details.some((d) => d.startsWith('body.pcrs')));
    const disabled = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      headers: { authorization: `Bearer ${GRANTED}` },
      payload: { nonce: '00'.repeat(16), pcrs: [23] },
    });
    assert.equal(disabled.statusCode, 503);
    assert.match(disabled.body, /disabled/);
    await app.close();
  });

  it('quote and activate need a Bearer token granted in attestation.access.apiTokens', async () => {
    const { log, lines } = capture();
    const app = Fastify({ loggerInstance: log });
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({ access: { apiTokens: ['verifier'] } }),
      apiTokens: [tokenEntry('verifier', GRANTED), tokenEntry('gpio', OTHER)],
      release: 'r1',
      log,
      deps: { openTpm: noTpm },
      waitForProvisioning: true,
    });
    const body = { nonce: '00'.repeat(16), pcrs: [23] };
    const call = (url: string, token?: string) =>
      app.inject({
        method: 'POST',
        url,
        payload: url.endsWith('quote') ? body : { credentialBlob: 'AAAA', secret: 'AAAA' },
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
    for (const url of ['/v1/attestation/quote', '/v1/attestation/activate']) {
      const none = await call(url);
      assert.equal(none.statusCode, 401, url);
      assert.equal(
        none.json<{ error: { code: string } }>().error.code,
        'EDGEFLOW_HTTP_UNAUTHORIZED',
      );
      const wrong = await call(url, 'c'.repeat(64));
      assert.equal(wrong.statusCode, 401, url);
      const other = await call(url, OTHER);
      assert.equal(other.statusCode, 403, url);
      assert.deepEqual(other.json<{ error: unknown }>().error, {
        code: 'EDGEFLOW_HTTP_FORBIDDEN',
        message: `token "gpio" is not granted POST ${url} (add it to attestation.access.apiTokens)`,
      });
      // Granted: it reaches the device (none here: 503).
      const ok = await call(url, GRANTED);
      assert.equal(ok.statusCode, 503, url);
    }
    assert.ok(lines.some((l) => l['event'] === 'http.auth_forbidden' && l['token'] === 'gpio'));
    // Identity is public key material: no token needed.
    const id = await app.inject({ method: 'GET', url: '/v1/attestation/identity' });
    assert.equal(id.statusCode, 503);
    await app.close();
  });

  it('refuses every token when the grant is empty (the default)', async () => {
    const { log } = capture();
    const app = Fastify();
    await app.register(attestationPlugin, {
      config: attestationConfigSchema.parse({}),
      apiTokens: [tokenEntry('verifier', GRANTED)],
      release: 'r1',
      log,
      deps: { openTpm: noTpm },
    });
    const r = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      headers: { authorization: `Bearer ${GRANTED}` },
      payload: { nonce: '00'.repeat(16), pcrs: [23] },
    });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'EDGEFLOW_HTTP_FORBIDDEN');
    const none = await app.inject({
      method: 'POST',
      url: '/v1/attestation/quote',
      payload: { nonce: '00'.repeat(16), pcrs: [23] },
    });
    assert.equal(none.statusCode, 401);
    await app.close();
  });

  it('validates its configuration section', () => {
    assert.equal(attestationConfigSchema.safeParse({ akHandle: 5 }).success, false);
    assert.equal(attestationConfigSchema.safeParse({ extra: 1 }).success, false);
    assert.equal(attestationConfigSchema.parse({}).releasePcr, 23);
  });
});
