import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Agent, AgentDeps } from '@edgeflow/agent';
import { startInProcessAgent, mqttPort } from '../helpers/in-process-agent.js';
import { freePort } from '../helpers/ports.js';
import { startQos2Publisher } from '../helpers/qos2-publisher.js';
import { startAgent } from '../helpers/agent-process.js';

// Issue 13: what only exists with ingest workers. The chaos tests (ingest, subscriber, bridge)
// run with ingest.workers 1 and 2 in their own files.

const BASE_TS = 1_790_000_000_000;

async function agentWith(
  t: TestContext,
  deps: Partial<AgentDeps> = {},
  config: Record<string, unknown> = {},
): Promise<{ agent: Agent; dir: string; http: (p: string) => Promise<Response> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-workers-'));
  const agent = await startInProcessAgent(dir, { ingest: { workers: 2 }, ...config }, deps);
  t.after(async () => {
    await agent.stop('test end').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${agent.addresses.http.port}`;
  return { agent, dir, http: (p) => fetch(`${base}${p}`) };
}

/** Readings each worker accepted so far (edgeflow_ingest_worker_messages_total). */
async function perWorker(http: (p: string) => Promise<Response>): Promise<number[]> {
  const text = await (await http('/metrics')).text();
  const out = [0, 0];
  for (const m of text.matchAll(
    /^edgeflow_ingest_worker_messages_total\{worker="(\d+)"\} (\d+)$/gm,
  ))
    out[Number(m[1])] = Number(m[2]);
  return out;
}

/**
 * One connected publisher on each worker: clients connect until the kernel (SO_REUSEPORT) put
 * one on each; each is placed by publishing one reading and seeing whose counter moved.
 */
async function onEachWorker(
  port: number,
  http: (p: string) => Promise<Response>,
): Promise<MqttClient[]> {
  const found: (MqttClient | undefined)[] = [undefined, undefined];
  const spare: MqttClient[] = [];
  for (let i = 0; i < 40 && found.some((c) => c === undefined); i++) {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: `probe-${i}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const before = await perWorker(http);
    await c.publishAsync(`sensors/probe/p${i}`, '1', { qos: 2 });
    const after = await perWorker(http);
    const w = after.findIndex((n, k) => n > (before[k] ?? 0));
    if (w >= 0 && found[w] === undefined) found[w] = c;
    else spare.push(c);
  }
  await Promise.all(spare.map((c) => c.endAsync()));
  const placed = found.filter((c): c is MqttClient => c !== undefined);
  assert.equal(placed.length, 2, 'a client on each of the two workers');
  return placed;
}

test('one key written from both workers at once keeps an exact seq', async (t) => {
  const { agent, http } = await agentWith(t);
  const [a, b] = (await onEachWorker(mqttPort(agent), http)) as [MqttClient, MqttClient];
  const before = await perWorker(http);
  const N = 400;
  // Each client keeps 20 QoS 2 messages in flight on the same sensor.
  const burst = async (c: MqttClient, tag: string) => {
    for (let i = 0; i < N; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, (_, k) =>
          c.publishAsync('sensors/hot/t', JSON.stringify({ v: i + k, u: tag }), { qos: 2 }),
        ),
      );
  };
  await Promise.all([burst(a, 'a'), burst(b, 'b')]);
  const after = await perWorker(http);
  t.diagnostic(
    `readings per worker during the burst: ${after.map((n, k) => n - (before[k] ?? 0)).join(', ')}`,
  );
  assert.deepEqual(
    after.map((n, k) => n - (before[k] ?? 0)),
    [N, N],
    "each worker applied its own client's readings",
  );
  const r = (await (await http('/v1/sensors/hot/t')).json()) as { seq: number };
  assert.equal(r.seq, 2 * N, 'seq counts every reading of both workers once');
  await Promise.all([a, b].map((c) => c.endAsync()));
});

/** Publishes readings whose fields are all derived from n, from a client on each worker. */
async function tornReads(
  t: TestContext,
  deps: Partial<AgentDeps>,
  budget: { reads: number; stopAtFirstTorn: boolean },
): Promise<{ reads: number; torn: string[]; written: number }> {
  const { agent, http } = await agentWith(t, deps);
  const port = mqttPort(agent);
  await onEachWorker(port, http).then((cs) => Promise.all(cs.map((c) => c.endAsync())));
  const pubs = Array.from({ length: 4 }, (_, i) =>
    startQos2Publisher(port, {
      clientId: `torn-pub-${i}`,
      topic: `sensors/torn/t${i % 2}`,
      window: 40,
      payload: (n) => {
        const v = n * 10 + i;
        return JSON.stringify({ v, u: `u${v}`, t: BASE_TS + v });
      },
    }),
  );
  const torn: string[] = [];
  let reads = 0;
  const check = (r: { value: number; unit: string | null; ts: number }) => {
    reads++;
    if (r.unit !== `u${r.value}` || r.ts !== BASE_TS + r.value) torn.push(JSON.stringify(r));
  };
  while (reads < budget.reads && !(budget.stopAtFirstTorn && torn.length > 0)) {
    // A single key (seqlock read of one record) and a listing (lock-free scan of the shards).
    const one = await http(`/v1/sensors/torn/t${reads % 2}`);
    if (one.status === 200) check((await one.json()) as never);
    const list = (await (await http('/v1/sensors?prefix=torn/')).json()) as {
      readings: never[];
    };
    for (const r of list.readings) check(r);
  }
  const written = (await Promise.all(pubs.map((p) => p.finish()))).reduce((x, y) => x + y, 0);
  return { reads, torn, written };
}

// Each worker's cache writes pause 0.3 ms half-way through a record (numbers new, strings
// old), inside the seqlock (test hook): a reader ignoring the sequence has a wide window.
const PAUSE = { ingestWorkerPauseMidRecordMs: 0.3 };

test('the HTTP API never returns a torn reading while both workers write', async (t) => {
  const { reads, torn, written } = await tornReads(t, PAUSE, {
    reads: 3000,
    stopAtFirstTorn: false,
  });
  t.diagnostic(`${reads} readings read over HTTP while ${written} were written`);
  assert.deepEqual(torn, []);
});

test('negative control: with the seqlock check removed, torn readings come back', async (t) => {
  // The same test with the main thread's cache handle reading without the sequence check
  // (SharedShardedMap's unvalidatedReads test hook): the detector above must catch something.
  const { reads, torn } = await tornReads(
    t,
    { ...PAUSE, cacheMapDeps: { unvalidatedReads: true } },
    { reads: 20_000, stopAtFirstTorn: true },
  );
  t.diagnostic(`first torn reading after ${reads} reads: ${torn[0] ?? 'none'}`);
  assert.ok(torn.length > 0, `no torn reading in ${reads} reads without the seqlock check`);
});

const failing = new URL('../fixtures/failing-worker.js', import.meta.url);

test('a worker that dies: its locks are released, the agent exits at once (crash-only), the log brings back every acknowledged reading', async (t) => {
  const port = await freePort();
  const config = { mqtt: { listen: { port } } };
  const exits: { code: number; reason: string }[] = [];
  process.env.EF_TEST_FAIL_WORKER = '1';
  process.env.EF_TEST_FAIL_AFTER_MS = '1500';
  const dir = await mkdtemp(join(tmpdir(), 'ef-workers-fail-'));
  let agent = await startInProcessAgent(
    dir,
    { ingest: { workers: 2 }, ...config },
    {
      ingestWorkerScript: failing,
      exitNow: (code, reason) => exits.push({ code, reason }),
    },
  ).finally(() => {
    delete process.env.EF_TEST_FAIL_WORKER;
    delete process.env.EF_TEST_FAIL_AFTER_MS;
  });
  const pubs = Array.from({ length: 4 }, (_, i) =>
    startQos2Publisher(port, {
      clientId: `fail-pub-${i}`,
      topic: `sensors/fail/s${i}`,
      window: 20,
    }),
  );
  try {
    const deadline = Date.now() + 20_000;
    while (exits.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      exits.map((e) => e.code),
      [70],
      'one exit, code 70 (crash-only)',
    );
    assert.match(
      exits[0]?.reason ?? '',
      /ingest worker 1 failed: ingest worker 1 exited with code 3/,
    );
    // The dead worker held the lock of this key's shard: released, so this read returns.
    assert.equal(agent.cache.get('#test/dies-here'), undefined);
    // The process would be gone now; stopping the in-process agent writes no checkpoint.
    await agent.stop('exited');
    agent = await startInProcessAgent(dir, { ingest: { workers: 2 }, ...config });
    const published = await Promise.all(pubs.map((p) => p.finish()));
    for (let i = 0; i < pubs.length; i++)
      assert.equal(
        agent.cache.get(`fail/s${i}`)?.seq,
        published[i],
        `sensor s${i}: seq == published`,
      );
    t.diagnostic(`published per sensor: ${published.join(', ')}`);
  } finally {
    await agent.stop('test end');
    await rm(dir, { recursive: true, force: true });
  }
});

test('a message queued from a publisher on a worker survives a checkpoint and restart byte for byte', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-workers-queue-'));
  const port = await freePort();
  const config = { ingest: { workers: 2 }, mqtt: { listen: { port } } };
  let agent = await startInProcessAgent(dir, config);
  t.after(async () => {
    await agent.stop('test end').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const url = `mqtt://127.0.0.1:${port}`;
  const opts = {
    clientId: 'queued-sub',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  } as const;
  const sub = await mqtt.connectAsync(url, opts);
  await sub.subscribeAsync('blob/#', { qos: 2 });
  await sub.endAsync();
  // Binary payloads (every byte value), QoS 2: the queue entries travel in the publisher's
  // log record from its worker to the main thread's session store and snapshot.
  const payloads = Array.from({ length: 8 }, (_, i) =>
    Buffer.from(Array.from({ length: 256 }, (_, b) => (b + i) & 0xff)),
  );
  const pub = await mqtt.connectAsync(url, { clientId: 'blob-pub', protocolVersion: 4 });
  for (const p of payloads) await pub.publishAsync('blob/x', p, { qos: 2 });
  await pub.endAsync();
  await agent.stop('checkpoint');
  agent = await startInProcessAgent(dir, config);
  const back = await mqtt.connectAsync(url, opts);
  const got: Buffer[] = [];
  await new Promise<void>((resolve) =>
    back.on('message', (_t, p) => {
      got.push(Buffer.from(p));
      if (got.length === payloads.length) resolve();
    }),
  );
  await back.endAsync();
  assert.deepEqual(
    got.map((b) => b.toString('hex')),
    payloads.map((b) => b.toString('hex')),
  );
});

test('bad payloads from a client on each worker are logged once per window for the agent, each counted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-workers-log-'));
  const agent = await startAgent({ dataDir: dir, env: { EDGEFLOW_INGEST_WORKERS: '2' } });
  t.after(async () => {
    await agent.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const clients = await onEachWorker(agent.mqttPort, agent.http);
  for (const [i, c] of clients.entries())
    for (let k = 0; k < 3; k++) await c.publishAsync(`sensors/bad/w${i}`, '{not json', { qos: 1 });
  const metrics = await (await agent.http('/metrics')).text();
  const rejected = /^edgeflow_ingest_rejected_total\{reason="bad_json"\} (\d+)$/m.exec(metrics);
  assert.equal(Number(rejected?.[1]), 6, 'every rejection counted, from both workers');
  const lines = agent.logs.filter((l) => l.event === 'ingest.rejected' && l.reason === 'bad_json');
  assert.equal(lines.length, 1, `logged once per window: ${JSON.stringify(lines)}`);
  await Promise.all(clients.map((c) => c.endAsync()));
});
