import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEALTH_SERIES } from '../../../src/metrics/history-sampler.js';
import { consoleServer, host } from './fixture.js';

test('the overview has the agent, readiness, counts, OTA and attestation state and the history', async (t) => {
  const { app, cache } = await consoleServer({ tickMs: 5 });
  t.after(() => app.close());
  cache.store('dev1/temp', {
    value: 21.5,
    unit: 'Cel',
    ts: Date.now() - 3,
    source: 'mqtt:a',
    quality: 'good',
  });
  // Wait for two history samples (the first only sets the baseline).
  for (let i = 0; i < 400; i++) {
    const r = await app.inject({ url: '/v1/console/overview', headers: host });
    if (r.json().history.values.ingestRate.length >= 1) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  const r = await app.inject({ url: '/v1/console/overview', headers: host });
  assert.equal(r.statusCode, 200);
  const o = r.json();
  assert.equal(o.agent.pid, process.pid);
  assert.deepEqual(o.readiness, { ready: true, checks: { broker: true } });
  assert.deepEqual(o.counts, { sensors: 1, mqttClients: 2, streams: 0 });
  assert.deepEqual(
    o.series.map((s: { name: string }) => s.name),
    HEALTH_SERIES.map((s) => s.name),
  );
  assert.ok(o.history.values.rssMiB.length >= 1);
  assert.equal(o.ota.current, null);
  assert.match(o.ota.error, /no OTA state under/);
  assert.equal(o.attestation.state, 'off');
  assert.equal(o.board, null);
  const refresh = await app.inject({ url: '/v1/console/overview?history=0', headers: host });
  assert.equal(refresh.json().history, null, 'refreshes leave the hour out');
  assert.equal(
    (await app.inject({ url: '/v1/console/overview?history=2', headers: host })).statusCode,
    400,
  );
  // Large answers travel gzipped when the client takes it.
  const gz = await app.inject({
    url: '/v1/console/overview',
    headers: { ...host, 'accept-encoding': 'gzip' },
  });
  assert.ok(gz.headers['content-encoding'] === 'gzip' || gz.body.length <= 8192);
});

test('sensor history returns the sparkline points the agent kept; bad queries are 400', async (t) => {
  const { app, cache } = await consoleServer({ tickMs: 5 });
  t.after(() => app.close());
  for (let i = 1; i <= 3; i++) {
    cache.store('dev1/temp', {
      value: 20 + i,
      unit: 'Cel',
      ts: Date.now(),
      source: 'mqtt:a',
      quality: 'good',
    });
    // Each change is seen by one scan (one point per scan and key): wait for that scan, however
    // long a loaded machine delays the timer, before the next change.
    await waitForPoints(app, i);
  }
  const r = await app.inject({
    url: '/v1/console/sensors/history?key=dev1/temp&key=none/x',
    headers: host,
  });
  assert.equal(r.statusCode, 200);
  const pts = r.json().points['dev1/temp'] as [number, number][];
  assert.deepEqual(
    pts.map((p) => p[1]),
    [21, 22, 23],
  );
  assert.equal(r.json().points['none/x'], undefined);
  const many = Array.from({ length: 201 }, (_, i) => `key=d/${i}`).join('&');
  assert.equal(
    (await app.inject({ url: `/v1/console/sensors/history?${many}`, headers: host })).statusCode,
    400,
  );
});

/** Polls the history route until `dev1/temp` has `n` points (fails after 20 s). */
async function waitForPoints(app: Awaited<ReturnType<typeof consoleServer>>['app'], n: number) {
  for (let i = 0; i < 2000; i++) {
    const r = await app.inject({ url: '/v1/console/sensors/history?key=dev1/temp', headers: host });
    const pts = (r.json().points as Record<string, unknown[]>)['dev1/temp'];
    if ((pts?.length ?? 0) >= n) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`the console scan never recorded point ${n} of dev1/temp`);
}

test('attestation without a TPM plugin says so and quotes nothing', async (t) => {
  const { app } = await consoleServer();
  t.after(() => app.close());
  const r = await app.inject({ url: '/v1/console/attestation', headers: host });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().status.state, 'off');
  assert.equal(r.json().identity, null);
  assert.equal(r.json().check, null);
});
