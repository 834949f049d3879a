import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { CONSOLE_CSP } from '../../../src/http/console/security-headers.js';
import { pickEncoding } from '../../../src/http/console/static-assets.js';
import { consoleServer, host } from './fixture.js';

test('every page path serves the app with a strict CSP and no-cache', async (t) => {
  const { app } = await consoleServer();
  t.after(() => app.close());
  for (const url of ['/', '/sensors', '/gpio', '/updates', '/attestation', '/edgeready']) {
    const r = await app.inject({ url, headers: host });
    assert.equal(r.statusCode, 200, url);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.body, /<script type="module" src="\/assets\/app-1.js">/);
  }
  assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*/);
});

test('precompressed copies are chosen by Accept-Encoding; ETag gives 304; hashed assets are immutable', async (t) => {
  const { app } = await consoleServer();
  t.after(() => app.close());
  const br = await app.inject({
    url: '/assets/app-1.js',
    headers: { ...host, 'accept-encoding': 'gzip, br' },
  });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(brotliDecompressSync(br.rawPayload).toString(), 'console.log(1)');
  assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
  const gz = await app.inject({
    url: '/assets/app-1.js',
    headers: { ...host, 'accept-encoding': 'gzip' },
  });
  assert.equal(gunzipSync(gz.rawPayload).toString(), 'console.log(1)');
  const plain = await app.inject({ url: '/assets/app-1.js', headers: host });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body, 'console.log(1)');
  const again = await app.inject({
    url: '/assets/app-1.js',
    headers: { ...host, 'if-none-match': String(plain.headers.etag) },
  });
  assert.equal(again.statusCode, 304);
  assert.equal((await app.inject({ url: '/assets/nope.js', headers: host })).statusCode, 404);
  assert.equal(
    (await app.inject({ url: '/favicon.svg', headers: host })).headers['content-type'],
    'image/svg+xml',
  );
});

test('pickEncoding honours q=0 and the wildcard', () => {
  assert.equal(pickEncoding('br;q=0, gzip'), 'gzip');
  assert.equal(pickEncoding('*'), 'br');
  assert.equal(pickEncoding('identity'), 'identity');
  assert.equal(pickEncoding(undefined), 'identity');
  assert.equal(pickEncoding('gzip;q=0, br;q=0'), 'identity');
});

test('without a built console, / answers 503 with its code and the API keeps working', async (t) => {
  const { app } = await consoleServer({ assetsDir: await mkdtemp(join(tmpdir(), 'empty-ui-')) });
  t.after(() => app.close());
  const r = await app.inject({ url: '/', headers: host });
  assert.equal(r.statusCode, 503);
  assert.equal(r.json().error.code, 'EDGEFLOW_CONSOLE_NOT_BUILT');
  assert.equal((await app.inject({ url: '/v1/sensors', headers: host })).statusCode, 200);
  assert.equal((await app.inject({ url: '/v1/console/overview', headers: host })).statusCode, 200);
});
