import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';
import { mosquittoMissing, startMosquitto } from './external-mosquitto-helper.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Summary {
  key: string;
  start: number;
  end: number;
  count?: number;
  min?: number;
  max?: number;
  mean?: number;
  last?: number | string;
  unit: string | null;
  partial: boolean;
}

/**
 * Sends `{"v":n,"u":"Cel"}` n = 1, 2, ... on sensors/agg/t (QoS 2, one in flight, so the agent
 * sees them in order), and every 10th also a string reading on sensors/agg/state.
 */
function startPublisher(port: number) {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: 'agg-pub',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  client.on('error', () => undefined);
  let sent = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const n = sent + 1;
      try {
        await client.publishAsync('sensors/agg/t', JSON.stringify({ v: n, u: 'Cel' }), { qos: 2 });
        if (n % 10 === 0)
          await client.publishAsync('sensors/agg/state', JSON.stringify({ v: `s${n}` }), {
            qos: 2,
          });
        sent = n;
      } catch {
        await sleep(50);
      }
      await sleep(20);
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async finish(): Promise<number> {
      stopping = true;
      await loop;
      await client.endAsync();
      return sent;
    },
  };
}

for (const workers of [1, 2])
  test(`bridge.aggregate: one summary per key and window upstream, across a stop and a kill (ingest.workers ${workers})`, async (t) => {
    const missing = mosquittoMissing();
    if (missing !== undefined) return t.skip(missing);
    const dir = await mkdtemp(join(tmpdir(), 'ef-bridge-agg-'));
    const upDir = join(dir, 'upstream');
    await mkdir(upDir);
    // mosquitto drops to its own user when started as root (see bridge-outage.int.test.ts).
    await chmod(dir, 0o755);
    await chmod(upDir, 0o777);
    const upPort = await freePort();
    const upstream = await startMosquitto(upPort, upDir);
    const summaries: { topic: string; s: Summary }[] = [];
    const raw: string[] = [];
    const sub = mqtt.connect(`mqtt://127.0.0.1:${upPort}`, {
      clientId: 'cloud-agg',
      clean: false,
      protocolVersion: 4,
    });
    sub.on('error', () => undefined);
    sub.on('message', (topic, payload) => {
      if (topic.startsWith('site1/agg/')) summaries.push({ topic, s: JSON.parse(String(payload)) });
      else raw.push(topic);
    });
    await sub.subscribeAsync('site1/#', { qos: 2 });

    const config = join(dir, 'edgeflow.yaml');
    await writeFile(
      config,
      [
        'bridge:',
        `  url: mqtt://127.0.0.1:${upPort}`,
        '  clientId: ef-bridge-agg',
        '  topicPrefix: site1/',
        '  reconnectMs: 200',
        "  topics: ['sensors/#']  # raw, but aggregate rules take what they match",
        '  aggregate:',
        "    - match: 'sensors/agg/#'",
        '      windowSec: 1',
        'ingest:',
        `  workers: ${workers}`,
        '',
      ].join('\n'),
    );
    const args = ['--config', config];
    const dataDir = join(dir, 'agent');
    const ports = { mqtt: await freePort(), http: await freePort() };
    let agent: AgentProcess = await startAgent({ dataDir, ports, args });
    const pub = startPublisher(ports.mqtt);
    let killedAt = 0;
    try {
      await sleep(2000);
      assert.equal((await agent.stop('SIGTERM')).code, 0);
      agent = await startAgent({ dataDir, ports, args });
      await sleep(2000);
      killedAt = pub.sent;
      await agent.stop('SIGKILL');
      const restartedAt = Date.now();
      agent = await startAgent({ dataDir, ports, args });
      t.diagnostic(`killed after reading ${killedAt}; restarted in ${Date.now() - restartedAt} ms`);
      await sleep(2000);
      const sent = await pub.finish();
      const raw1 = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'raw-pub' });
      await raw1.publishAsync('sensors/raw/x', '1', { qos: 1 });
      await raw1.endAsync();
      await sleep(2500); // the last window closes, its summary goes upstream
      const metrics = await (await agent.http('/metrics')).text();
      t.diagnostic(
        metrics
          .split('\n')
          .filter((l) => /^edgeflow_bridge_(aggregated|windows_emitted|aggregate_)/.test(l))
          .join('; '),
      );

      const temp = summaries.filter((x) => x.s.key === 'agg/t').map((x) => x.s);
      const state = summaries.filter((x) => x.s.key === 'agg/state').map((x) => x.s);
      t.diagnostic(
        `sent ${sent} readings; ${temp.length} temperature and ${state.length} state summaries upstream`,
      );
      assert.ok(summaries.every((x) => x.topic === `site1/agg/1s/${x.s.key}`));
      assert.deepEqual(raw, ['site1/sensors/raw/x'], 'unmatched topics still go raw');
      for (const s of temp) {
        assert.equal(s.end - s.start, 1000);
        assert.equal(s.start % 1000, 0, 'aligned to the clock');
        assert.equal(s.unit, 'Cel');
        // In order, one in flight: a window holds a contiguous run of readings.
        assert.equal(s.count, (s.max ?? 0) - (s.min ?? 0) + 1);
        assert.equal(s.mean, ((s.min ?? 0) + (s.max ?? 0)) / 2);
        assert.equal(s.last, s.max);
      }
      for (const s of state) {
        assert.deepEqual([s.min, s.max, s.mean], [undefined, undefined, undefined]);
        assert.match(String(s.last), /^s\d+$/);
      }
      // Windows follow each other and no reading is counted twice.
      for (let i = 1; i < temp.length; i++) {
        const [a, b] = [temp[i - 1] as Summary, temp[i] as Summary];
        assert.ok(b.start > a.start && (b.min ?? 0) > (a.max ?? 0), 'in order, disjoint');
      }
      // Nothing lost up to the kill (the SIGTERM restart resumed the open window) ...
      const covered = new Set(temp.flatMap((s) => range(s.min ?? 0, s.max ?? 0)));
      const lost = range(1, sent).filter((n) => !covered.has(n));
      t.diagnostic(
        `readings missing from the summaries: ${lost.length} (${lost[0]}..${lost.at(-1)})`,
      );
      // ... and what the kill lost is one window's run, just before the kill.
      if (lost.length > 0) {
        assert.equal(lost.length, (lost.at(-1) ?? 0) - (lost[0] ?? 0) + 1, 'one contiguous run');
        assert.ok((lost.at(-1) ?? 0) <= killedAt + 1, 'only readings from before the kill');
      }
      t.diagnostic(
        `windows (min..max${'/'}partial): ${temp.map((s) => `${s.min}..${s.max}${s.partial ? '/p' : ''}`).join(' ')}`,
      );
      // The first window of the key after the crash, and only it, is marked partial.
      const partial = temp.filter((s) => s.partial);
      assert.equal(partial.length, 1, 'one partial window');
      const first = partial[0] as Summary;
      assert.ok(
        temp.filter((s) => s.start < first.start).every((s) => (s.max ?? 0) <= killedAt + 1),
        'the windows before it were closed before the kill',
      );
      assert.ok((first.min ?? 0) > (lost.at(-1) ?? 0), 'it is the first window after the gap');
      assert.equal(temp.at(-1)?.max, sent, 'the last reading made it');
    } finally {
      await agent.stop('SIGTERM');
      await sub.endAsync();
      await upstream.stop();
    }
  });

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
}
