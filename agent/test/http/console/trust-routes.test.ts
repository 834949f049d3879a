import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { consoleServer, host } from './fixture.js';

/** An enrolment record that parses (its keys are not real: the archives here fail earlier). */
const ENROLMENT = {
  version: 1,
  agent: 'test',
  enrolledAt: '2026-12-07T00:00:00Z',
  ekType: 'rsa',
  ekPublic: 'AAEAAQ==',
  ekCertificate: null,
  akPublic: 'AAEAAQ==',
  akName: '000b',
  firmwareVersion: '0000000000000001',
  lastQuote: null,
};
const enrolHeader = Buffer.from(JSON.stringify(ENROLMENT)).toString('base64');

const upload = (body: Buffer, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/v1/console/edgeready/verify',
  headers: { ...host, 'content-type': 'application/x-tar', ...headers },
  payload: body,
});

test("an archive edgeready cannot read is shown as rejected with edgeready's code; nothing stays on disk", async (t) => {
  const s = await consoleServer();
  t.after(() => s.app.close());
  const r = await s.app.inject(
    upload(Buffer.from('not a tar archive'), { 'x-edgeready-enrolment': enrolHeader }),
  );
  assert.equal(r.statusCode, 200, r.body);
  const v = r.json();
  assert.equal(v.ok, false);
  assert.equal(v.rejected.code, 'EDGEFLOW_ER_ARCHIVE_FORMAT');
  assert.equal(v.enrolment.source, 'uploaded enrolment record');
  assert.match(v.enrolment.ekSha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(await readdir(join(s.dataDir, 'console', 'uploads')), []);
});

test('upload refusals: wrong type, bad enrolment header, no enrolment at all, too large', async (t) => {
  const s = await consoleServer();
  t.after(() => s.app.close());
  const wrongType = await s.app.inject({
    ...upload(Buffer.from('x')),
    headers: { ...host, 'content-type': 'text/plain' },
  });
  assert.equal(wrongType.statusCode, 400);
  assert.equal(wrongType.json().error.code, 'EDGEFLOW_CONSOLE_BAD_UPLOAD');
  const badHeader = await s.app.inject(
    upload(Buffer.from('x'), { 'x-edgeready-enrolment': 'not base64!' }),
  );
  assert.equal(badHeader.statusCode, 400);
  assert.equal(badHeader.json().error.code, 'EDGEFLOW_CONSOLE_BAD_UPLOAD');
  const notRecord = await s.app.inject(
    upload(Buffer.from('x'), {
      'x-edgeready-enrolment': Buffer.from('{"version":2}').toString('base64'),
    }),
  );
  assert.equal(notRecord.json().error.code, 'EDGEFLOW_CONSOLE_BAD_UPLOAD');
  assert.match(notRecord.json().error.message, /enrolment record/);
  const none = await s.app.inject(upload(Buffer.from('x')));
  assert.equal(none.statusCode, 409);
  assert.equal(none.json().error.code, 'EDGEFLOW_CONSOLE_NO_ENROLMENT');
  const big = await s.app.inject(
    upload(Buffer.alloc(70_000), { 'x-edgeready-enrolment': enrolHeader }),
  );
  assert.equal(big.statusCode, 200, 'within the default 64 MiB');
});

test('an upload past maxUploadBytes is cut while it streams (no Content-Length to trust)', async (t) => {
  const s = await consoleServer({ config: { http: { console: { maxUploadBytes: 65536 } } } });
  t.after(() => s.app.close());
  const declared = await s.app.inject(
    upload(Buffer.alloc(65537), { 'x-edgeready-enrolment': enrolHeader }),
  );
  assert.equal(declared.statusCode, 413);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as AddressInfo;
  const chunks = [Buffer.alloc(40_000), Buffer.alloc(40_000)];
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const r = await fetch(`http://127.0.0.1:${port}/v1/console/edgeready/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-tar', 'x-edgeready-enrolment': enrolHeader },
    body,
    duplex: 'half',
  });
  assert.equal(r.status, 413);
  assert.equal(
    ((await r.json()) as { error: { code: string } }).error.code,
    'EDGEFLOW_CONSOLE_UPLOAD_TOO_LARGE',
  );
  assert.deepEqual(await readdir(join(s.dataDir, 'console', 'uploads')), []);
});

test('the read rule covers uploads: a non-loopback listener wants the token', async (t) => {
  const s = await consoleServer({ config: { http: { listen: { host: '0.0.0.0' } } } });
  t.after(() => s.app.close());
  const r = await s.app.inject(upload(Buffer.from('x'), { 'x-edgeready-enrolment': enrolHeader }));
  assert.equal(r.statusCode, 401);
  const o = await s.app.inject({ url: '/v1/console/overview', headers: host });
  assert.equal(o.statusCode, 401);
  assert.equal(
    (await s.app.inject({ url: '/', headers: host })).statusCode,
    200,
    'the shell itself is public',
  );
});
