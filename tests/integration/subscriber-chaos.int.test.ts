import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Agent } from '@edgeflow/agent';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { startInProcessAgent as startTestAgent } from '../helpers/in-process-agent.js';
import { freePort } from '../helpers/ports.js';
import { startQos2Publisher } from '../helpers/qos2-publisher.js';
import { RawQos2Receiver } from '../helpers/raw-qos2-receiver.js';

/*
 * Proof of issue 4, "Chaos, embedded ... Same with clean:false subscribers attached through
 * the broker": QoS 2 from publishers through the embedded broker to persistent subscribers,
 * exactly once, while the agent is SIGKILLed; and a deterministic test of aedes's outgoing
 * packet-id reuse.
 *
 * Why a loss or duplicate counted here is the broker's and not mqtt.js's (mqtt 5.16,
 * build/lib/handlers/publish.js, pubrel.js, client.js), given that the subscriber processes
 * stay alive and only the agent is killed:
 * - A QoS 2 PUBLISH is stored in the client's incomingStore under its packet id (a second
 *   PUBLISH with the same id replaces the stored one) and answered with PUBREC; 'message' is
 *   emitted only on PUBREL, from the stored packet, which is then deleted before PUBCOMP. A
 *   PUBREL for an id with nothing stored gets PUBCOMP and no 'message'. So a retransmitted
 *   PUBLISH (DUP) before PUBREL is never delivered twice (the spec's "method A").
 * - incomingStore and the ids awaiting PUBREL live in memory and survive reconnects (they are
 *   reset only by end() then connect()). Only when CONNACK says the session is not present
 *   does mqtt.js drop them (`_discardIncomingQoS2State`): the broker forgot the session and
 *   will never send those PUBRELs.
 * Hence a duplicate means the broker started a new exchange for a message it had already
 *   released (PUBLISH resent after PUBREL [MQTT-4.3.3-1], or a published message forwarded
 *   twice); a loss means the broker never released it, forgot the session, or sent a new
 *   message under an id still awaiting PUBREL [MQTT-2.3.1-2] (mqtt.js then keeps only the
 *   newer of the two, which is exactly the aedes bug tested deterministically below).
 * The publishers resend only what mqtt.js failed unsent ("Connection closed" for a publish
 * still queued behind the store replay), and the agent's per-sensor seq (readings applied)
 * must equal the count published: with seq right, a number duplicated at every subscriber
 * was forwarded by the broker, then forgotten as received, and taken again as new.
 * No MQTT 5 subscriber (session expiry): aedes 1.2 refuses protocol level 5 at CONNECT.
 */

const PUBLISHERS = 3;
const SUBSCRIBERS = 3;
const WINDOW = 20;
const KILLS = 10;
/** Give up waiting for the subscribers once none received anything for this long. */
const QUIET_MS = 15_000;
const PREFIX = 'sensors/subchaos';

function dbg(s: string): void {
  if (process.env.CHAOS_DEBUG) process.stderr.write(`${new Date().toISOString()} ${s}\n`);
}

/** Numbers received per sensor (value -> times delivered); value 0 is the end marker. */
type Received = Map<number, number>[];

/**
 * An mqtt.js subscriber with a persistent session: it subscribes once, on its first
 * connection, and never again (`resubscribe: false`), so after each agent restart it gets
 * messages only if the broker restored its session (subscription and in-flight state).
 */
function startSubscriber(port: number, i: number) {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: `subchaos-sub-${i}`,
    clean: false,
    protocolVersion: 4,
    resubscribe: false,
    reconnectPeriod: 50,
    connectTimeout: 5000,
  });
  client.on('error', () => undefined);
  const received: Received = Array.from({ length: PUBLISHERS }, () => new Map());
  const listeners = new Set<() => void>();
  const state = { connects: 0, sessionLost: 0 };
  const subscribed = new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      client.subscribeAsync(`${PREFIX}/+`, { qos: 2 }).then((granted) => {
        if (granted[0]?.qos !== 2) reject(new Error(`subscriber ${i}: granted ${granted[0]?.qos}`));
        else resolve();
      }, reject);
    });
  });
  client.on('connect', (connack) => {
    state.connects++;
    if (state.connects > 1 && !connack.sessionPresent) {
      state.sessionLost++;
      dbg(`subscriber ${i}: reconnected without its session`);
    }
  });
  client.on('message', (topic, payload) => {
    const sensor = Number(topic.slice(PREFIX.length + 2));
    const v = (JSON.parse(payload.toString()) as { v: number }).v;
    const m = received[sensor];
    if (m !== undefined) m.set(v, (m.get(v) ?? 0) + 1);
    for (const l of listeners) l();
  });
  return { client, received, listeners, state, subscribed };
}
type Subscriber = ReturnType<typeof startSubscriber>;

/**
 * Resolves true once `done()` holds (checked on every message), false once no subscriber
 * received anything for QUIET_MS: progress, not wall time, decides.
 */
function waitForSubscribers(subs: Subscriber[], done: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      for (const s of subs) s.listeners.delete(check);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), QUIET_MS);
    const check = () => (done() ? finish(true) : timer.refresh());
    for (const s of subs) s.listeners.add(check);
    check();
  });
}

const firstOf = (xs: number[]) =>
  xs.length > 20 ? `${xs.slice(0, 20).join(',')},...` : xs.join(',');

/**
 * Per subscriber and sensor: numbers 1..published missing, delivered more than once, never
 * published; and the end marker (0) unless it was not sent.
 */
function problems(subs: Subscriber[], published: number[], markers: boolean): string[] {
  const out: string[] = [];
  subs.forEach((s, i) => {
    published.forEach((n, k) => {
      const got = s.received[k] ?? new Map<number, number>();
      if (markers && got.get(0) !== 1)
        out.push(`subscriber ${i}, sensor s${k}: end marker delivered ${got.get(0) ?? 0} times`);
      const missing: number[] = [];
      const dups: number[] = [];
      for (let v = 1; v <= n; v++) {
        const c = got.get(v) ?? 0;
        if (c === 0) missing.push(v);
        else if (c > 1) dups.push(v);
      }
      const unknown = [...got.keys()].filter((v) => v < 0 || v > n || (v === 0 && !markers));
      if (missing.length + dups.length + unknown.length > 0)
        out.push(
          `subscriber ${i}, sensor s${k} (${n} published): ${missing.length} missing [${firstOf(missing)}], ` +
            `${dups.length} duplicated [${firstOf(dups)}]` +
            (unknown.length > 0 ? `, never published [${firstOf(unknown)}]` : ''),
        );
    });
    if (s.state.sessionLost > 0)
      out.push(`subscriber ${i}: ${s.state.sessionLost} reconnects without its session`);
  });
  // The same number duplicated at every subscriber was duplicated on its way in: the broker
  // forwarded a PUBLISH, lost its record of having received it (killed before that was
  // durable) and took the publisher's retransmission for a new message.
  published.forEach((n, k) => {
    const dup = (s: Subscriber, v: number) => (s.received[k]?.get(v) ?? 0) > 1;
    const common: number[] = [];
    for (let v = 1; v <= n; v++) if (subs.every((s) => dup(s, v))) common.push(v);
    if (subs.length > 1 && common.length > 0)
      out.push(
        `sensor s${k}: duplicated at every subscriber (on the way in): [${firstOf(common)}]`,
      );
  });
  return out;
}

/** Ingest threads: 1 (the broker on the main thread) and 2 (ingest workers, the default here). */
const WORKERS = [1, 2] as const;

/**
 * Clients per ingest worker now (edgeflow_ingest_worker_clients), to show that the clients were
 * spread over both workers (the kernel picks per connection, SO_REUSEPORT).
 */
async function clientsPerWorker(agent: AgentProcess): Promise<number[]> {
  const text = await (await agent.http('/metrics')).text();
  const out: number[] = [];
  for (const m of text.matchAll(/^edgeflow_ingest_worker_clients\{worker="(\d+)"\} (\d+)$/gm))
    out[Number(m[1])] = Number(m[2]);
  return out;
}

for (const workers of WORKERS)
  test(
    `clean:false QoS 2 subscribers under repeated SIGKILL: every message delivered exactly once (ingest.workers ${workers})`,
    { timeout: 240_000 },
    async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'ef-subchaos-'));
      const ports = { mqtt: await freePort(), http: await freePort() };
      // CHAOS_DURABILITY=memory shows the test failing without the write-ahead log.
      const config = join(dataDir, 'edgeflow.yaml');
      await writeFile(
        config,
        `ingest:\n  durability: ${process.env.CHAOS_DURABILITY ?? 'wal'}\n  workers: ${workers}\n`,
      );
      const args = ['--config', config];
      let agent: AgentProcess = await startAgent({ dataDir, ports, args });
      /** Per incarnation with workers: clients on each worker once the stream runs. */
      const spread: number[][] = [];
      const subs = Array.from({ length: SUBSCRIBERS }, (_, i) => startSubscriber(ports.mqtt, i));
      try {
        await Promise.all(subs.map((s) => s.subscribed));
        const pubs = Array.from({ length: PUBLISHERS }, (_, i) =>
          startQos2Publisher(ports.mqtt, {
            clientId: `subchaos-pub-${i}`,
            topic: `${PREFIX}/s${i}`,
            window: WINDOW,
            debug: dbg,
          }),
        );
        for (let k = 0; k < KILLS; k++) {
          // Mostly mid-stream; sometimes right after the restart, during reconnects and replays.
          const delay = Math.random() < 0.3 ? Math.random() * 30 : 100 + Math.random() * 400;
          await new Promise((r) => setTimeout(r, delay));
          const before = pubs.map((p) => p.completed).reduce((a, b) => a + b, 0);
          if (workers > 1) spread.push(await clientsPerWorker(agent));
          const exit = await agent.stop('SIGKILL');
          assert.equal(exit.signal, 'SIGKILL');
          t.diagnostic(`kill ${k + 1} after ${Math.round(delay)} ms, ${before} completed so far`);
          agent = await startAgent({ dataDir, ports, args });
        }
        // Let the stream run a little against the last incarnation, then drain.
        await new Promise((r) => setTimeout(r, 200));
        const published = await Promise.all(pubs.map((p) => p.finish()));
        t.diagnostic(`published per sensor: ${published.join(', ')}`);
        const complete = () =>
          subs.every((s) => published.every((n, k) => (s.received[k]?.size ?? 0) >= n));
        const drained = await waitForSubscribers(subs, complete);
        t.diagnostic(`subscribers drained: ${drained}`);
        // What ingest-chaos checks, on the same stream: each reading applied exactly once.
        const seqs: number[] = [];
        for (let i = 0; i < PUBLISHERS; i++) {
          const res = await agent.http(`/v1/sensors/subchaos/s${i}`);
          seqs.push(res.status === 200 ? ((await res.json()) as { seq: number }).seq : -res.status);
        }
        t.diagnostic(`readings applied per sensor (seq): ${seqs.join(', ')}`);

        if (drained) {
          // Once more after everything was delivered: whatever the restored sessions still hold
          // (a stale PUBLISH: a duplicate) is resent on the reconnect. Each publisher then sends
          // an end marker (value 0) that bounds the wait; aedes writes a live message without
          // waiting for the resends, so a stale resend after the marker would go unseen (a missed
          // duplicate, never a false failure).
          await agent.stop('SIGKILL');
          agent = await startAgent({ dataDir, ports, args });
          const markers = Array.from({ length: PUBLISHERS }, (_, k) =>
            mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
              clientId: `subchaos-pub-${k}`,
              clean: false,
              protocolVersion: 4,
              reconnectPeriod: 0,
            }),
          );
          for (const [k, m] of markers.entries()) {
            const c = await m;
            await c.publishAsync(`${PREFIX}/s${k}`, JSON.stringify({ v: 0 }), { qos: 2 });
            await c.endAsync();
          }
          const marked = await waitForSubscribers(subs, () =>
            subs.every((s) => s.received.every((m) => m.has(0))),
          );
          t.diagnostic(`end markers received: ${marked}`);
        }
        t.diagnostic(
          `connects per subscriber: ${subs.map((s) => s.state.connects).join(', ')}; publisher ` +
            `retries after "Connection closed": ${pubs.map((p) => p.retries).join(', ')}`,
        );
        const found = problems(subs, published, drained);
        assert.deepEqual(
          found,
          [],
          `subscribers did not get every message exactly once:\n${found.join('\n')}`,
        );
        assert.deepEqual(
          seqs,
          published,
          'per sensor: seq (readings applied) == messages published',
        );
        if (workers > 1) {
          t.diagnostic(
            `clients per worker before each kill: ${spread.map((s) => s.join('+')).join(' ')}`,
          );
          // Publishers and subscribers were on both workers at the same time, more than once: a
          // subscriber on one worker got what a publisher on the other sent.
          const both = spread.filter((s) => s.length === workers && s.every((n) => n > 0));
          assert.ok(
            both.length >= 2,
            `clients on every worker at once in ${both.length} of ${spread.length} incarnations`,
          );
        }
      } finally {
        await Promise.all(subs.map((s) => s.client.endAsync(true)));
        await agent.stop('SIGTERM');
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );

/*
 * aedes numbers outgoing QoS 1/2 PUBLISHes from `client._nextId`, which each connection starts
 * at `Math.ceil(Math.random() * 65535)` (aedes/lib/client.js) and increments without looking
 * at what is in flight. A persistent session keeps messages in flight across reconnects (they
 * are resent with their old ids), so a new message can get the id of one still awaiting PUBREC
 * or PUBCOMP: the subscriber takes it for a retransmission (lost) and the broker matches the
 * PUBREC/PUBCOMP to the wrong stored packet. Math.random is pinned while the subscriber
 * connects so that both connections start at the same id, FIRST_ID: every new message then
 * collides unless the broker skips ids in flight. FIRST_ID sits near 65535 so that the
 * numbering also wraps.
 */
const FIRST_ID = 65530;
const RANDOM_FOR_FIRST_ID = (FIRST_ID - 0.5) / 65535;
const UNACKED = 8;
const OFFLINE = 4;
const LIVE = 4;
/** Safety net for a broker that stops answering; the normal path waits for packets. */
const STEP_MS = 10_000;

const pinnedWorker = new URL('../fixtures/pinned-random-worker.js', import.meta.url);

/**
 * The agent in this process (Math.random is pinned in this thread, or, with ingest workers, in
 * the worker threads by a fixture that pins it for every connection: the first connections are
 * the ones the test checks, the later ones start at the same id, which is the point).
 */
function startInProcessAgent(
  dataDir: string,
  durability: 'wal' | 'memory',
  workers: number,
): Promise<Agent> {
  return startTestAgent(
    dataDir,
    { ingest: { durability, workers } },
    workers > 1 ? { ingestWorkerScript: pinnedWorker } : {},
  );
}

async function packetIdReuse(
  t: TestContext,
  durability: 'wal' | 'memory',
  workers: number,
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ef-pktid-'));
  if (workers > 1) process.env.EF_TEST_PINNED_RANDOM = String(RANDOM_FOR_FIRST_ID);
  const agent = await startInProcessAgent(dataDir, durability, workers).finally(() => {
    delete process.env.EF_TEST_PINNED_RANDOM;
  });
  const port = agent.addresses.mqtt?.port ?? 0;
  const topic = 'sensors/pktid/s0';
  const sub = { port, clientId: 'pktid-sub', clean: false };
  const connectPinned = async (acks: 'none' | 'hold') => {
    const pinned = t.mock.method(Math, 'random', () => RANDOM_FOR_FIRST_ID);
    try {
      return await RawQos2Receiver.connect({ ...sub, acks });
    } finally {
      pinned.mock.restore();
    }
  };
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'pktid-pub',
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  let next = 1;
  const publish = (n: number) =>
    Promise.all(
      Array.from({ length: n }, () =>
        pub.publishAsync(topic, JSON.stringify({ v: next++ }), { qos: 2 }),
      ),
    );
  const receivers: RawQos2Receiver[] = [];
  try {
    // 1. The subscriber receives UNACKED messages and acknowledges none of them.
    const first = await connectPinned('none');
    receivers.push(first);
    assert.deepEqual(await first.subscribe(topic, 2), [2]);
    await publish(UNACKED);
    await first.until(() => first.frames.length >= UNACKED, 'first deliveries', STEP_MS);
    const firstIds = first.frames.map((f) => f.id);
    const wrapped = Array.from({ length: UNACKED }, (_, i) => ((FIRST_ID - 1 + i) % 65535) + 1);
    // Without this the test would prove nothing: it relies on aedes's random first id.
    assert.deepEqual(firstIds, wrapped, 'precondition: the first ids follow the pinned start');
    await first.disconnect();

    // 2. More messages while it is offline; it comes back (same first id) and holds its
    //    acknowledgements until it saw every frame, so that each resent message is still
    //    awaiting PUBREL when the new ones arrive; more messages are published live.
    await publish(OFFLINE);
    const second = await connectPinned('hold');
    receivers.push(second);
    const resumed = second.sessionPresent;
    await second.until(() => second.frames.length >= UNACKED + OFFLINE, 'resent + queued', STEP_MS);
    await publish(LIVE);
    const total = UNACKED + OFFLINE + LIVE;
    await second.until(() => second.frames.length >= total, 'live deliveries', STEP_MS);
    second.releaseAcks();
    // Done when every PUBREC got its PUBREL (nothing more comes on this connection).
    const settled = () =>
      second.awaitingPubrel.size === 0 && second.pubrelsReceived >= second.pubrecsSent;
    const notes: string[] = [];
    await second.until(settled, 'PUBREL for every PUBREC', STEP_MS).catch((err: Error) => {
      notes.push(err.message);
    });
    if (!second.closed) await second.ping(STEP_MS);
    const onLiveConnection = [...second.delivered];
    await second.disconnect();

    // 3. A last reconnect: the session must be empty now but for an end marker published
    //    while offline (a stale PUBLISH still held by the broker would come first, a duplicate).
    await publish(1);
    const third = await RawQos2Receiver.connect({ ...sub, acks: 'immediate' });
    receivers.push(third);
    const marker = JSON.stringify({ v: total + 1 });
    await third
      .until(
        () => third.delivered.includes(marker) && third.awaitingPubrel.size === 0,
        'end marker',
        STEP_MS,
      )
      .catch((err: Error) => notes.push(err.message));

    const expected = Array.from({ length: total + 1 }, (_, i) => JSON.stringify({ v: i + 1 }));
    const all = [...onLiveConnection, ...third.delivered];
    const count = (p: string) => all.filter((x) => x === p).length;
    const v = (p: string) => (JSON.parse(p) as { v: number }).v;
    const missing = expected.filter((p) => count(p) === 0).map(v);
    const dups = expected.filter((p) => count(p) > 1).map(v);
    const late = third.delivered
      .filter((p) => p !== marker && !onLiveConnection.includes(p))
      .map(v);
    const ids = second.frames.map((f) => `${f.id}${f.dup ? 'd' : ''}:${v(f.payload)}`);
    t.diagnostic(`reconnect frames (id[d=DUP]:message): ${ids.join(' ')}`);
    assert.equal(resumed, true, 'the broker kept the session (CONNACK session present)');
    assert.deepEqual(
      { missing, duplicated: dups, deliveredOnlyAfterAnotherReconnect: late },
      { missing: [], duplicated: [], deliveredOnlyAfterAnotherReconnect: [] },
      `messages 1-${UNACKED} unacknowledged, ${UNACKED + 1}-${UNACKED + OFFLINE} queued offline, ` +
        `${UNACKED + OFFLINE + 1}-${total} live, ${total + 1} end marker; on reconnect the receiver ` +
        `took ${second.duplicates} PUBLISH(es) for retransmissions of ids awaiting PUBREL ` +
        `[MQTT-4.3.3-2]${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
    );
  } finally {
    for (const r of receivers) r.destroy();
    await pub.endAsync(true);
    await agent.stop('test done');
    await rm(dataDir, { recursive: true, force: true });
  }
}

test(
  'outgoing packet ids never reuse one in flight (clean:false QoS 2 subscriber reconnects)',
  { timeout: 60_000 },
  async (t) => {
    for (const workers of WORKERS) {
      await t.test(`durability: wal, ingest.workers ${workers}`, (t) =>
        packetIdReuse(t, 'wal', workers),
      );
      await t.test(`durability: memory, ingest.workers ${workers}`, (t) =>
        packetIdReuse(t, 'memory', workers),
      );
    }
  },
);
