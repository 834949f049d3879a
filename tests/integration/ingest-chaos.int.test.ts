import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';
import { startQos2Publisher, type Qos2Publisher } from '../helpers/qos2-publisher.js';

const PUBLISHERS = 4;
const WINDOW = 40;
const KILLS = 10;
function dbg(s: string): void {
  if (process.env.CHAOS_DEBUG) process.stderr.write(`${new Date().toISOString()} ${s}\n`);
}

function startPublisher(port: number, i: number): Qos2Publisher {
  return startQos2Publisher(port, {
    clientId: `chaos-pub-${i}`,
    topic: `sensors/chaos/s${i}`,
    window: WINDOW,
    debug: dbg,
  });
}

// 1: the broker on the main thread; 2: on two ingest workers (the publishers spread over both).
for (const workers of [1, 2])
  test(`QoS 2 under repeated SIGKILL: every reading applied exactly once (seq == published) (ingest.workers ${workers})`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ef-chaos-'));
    const ports = { mqtt: await freePort(), http: await freePort() };
    // CHAOS_DURABILITY=memory shows the test failing without the write-ahead log.
    const config = join(dataDir, 'edgeflow.yaml');
    await writeFile(
      config,
      `ingest:\n  durability: ${process.env.CHAOS_DURABILITY ?? 'wal'}\n  workers: ${workers}\n`,
    );
    const args = ['--config', config];
    let agent: AgentProcess = await startAgent({ dataDir, ports, args });
    const pubs = Array.from({ length: PUBLISHERS }, (_, i) => startPublisher(ports.mqtt, i));
    try {
      for (let k = 0; k < KILLS; k++) {
        // Mostly mid-stream; sometimes right after the restart, during reconnects and replays.
        const delay = Math.random() < 0.3 ? Math.random() * 30 : 100 + Math.random() * 400;
        await new Promise((r) => setTimeout(r, delay));
        const before = pubs.map((p) => p.completed).reduce((a, b) => a + b, 0);
        const exit = await agent.stop('SIGKILL');
        assert.equal(exit.signal, 'SIGKILL');
        t.diagnostic(`kill ${k + 1} after ${Math.round(delay)} ms, ${before} completed so far`);
        dbg(`killed ${k + 1}, ${before} completed`);
        agent = await startAgent({ dataDir, ports, args });
        dbg('restarted');
      }
      // Let the stream run a little against the last incarnation, then drain.
      await new Promise((r) => setTimeout(r, 200));
      dbg('draining');
      const published = await Promise.all(pubs.map((p) => p.finish()));
      t.diagnostic(`published per sensor: ${published.join(', ')}`);
      t.diagnostic(
        `publishes retried after "Connection closed": ${pubs.map((p) => p.retries).join(', ')}`,
      );
      for (let i = 0; i < PUBLISHERS; i++) {
        const res = await agent.http(`/v1/sensors/chaos/s${i}`);
        assert.equal(res.status, 200);
        const r = (await res.json()) as { seq: number };
        assert.equal(r.seq, published[i], `sensor s${i}: seq must equal the number published`);
      }
    } finally {
      await agent.stop('SIGTERM');
    }
  });
