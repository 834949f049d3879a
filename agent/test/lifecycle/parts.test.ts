import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.js';
import { Agent } from '../../src/lifecycle/agent.js';
import { agentParts } from '../../src/lifecycle/agent-parts.js';
import type { AgentContext } from '../../src/lifecycle/context.js';
import { PartRunner, type AgentPart } from '../../src/lifecycle/part.js';
import { cachePart, dataDirPart } from '../../src/lifecycle/parts/storage.js';
import type { SystemdNotifier } from '../../src/lifecycle/systemd-notify.js';

function recorder() {
  const calls: string[] = [];
  const part = (name: string, o: { failStart?: boolean; failStop?: boolean; off?: boolean } = {}) =>
    ({
      name,
      enabled: () => o.off !== true,
      start: () => {
        calls.push(`start ${name}`);
        if (o.failStart) throw new Error(`${name} cannot start`);
      },
      ready: () => void calls.push(`ready ${name}`),
      stop: () => {
        calls.push(`stop ${name}`);
        if (o.failStop) throw new Error(`${name} cannot stop`);
      },
    }) satisfies AgentPart;
  return { calls, part };
}

const lines: string[] = [];
const ctx = {
  log: pino({ level: 'error' }, { write: (s: string) => void lines.push(s) }),
} as unknown as AgentContext;

test('parts start in order, get ready in order, stop in reverse; disabled parts are left out', async () => {
  const { calls, part } = recorder();
  const runner = new PartRunner();
  await runner.start([part('a'), part('off', { off: true }), part('b'), part('c')], ctx);
  await runner.ready(ctx);
  await runner.stop(ctx);
  assert.deepEqual(calls, [
    'start a',
    'start b',
    'start c',
    'ready a',
    'ready b',
    'ready c',
    'stop c',
    'stop b',
    'stop a',
  ]);
  await runner.stop(ctx);
  assert.equal(calls.length, 9, 'a second stop stops nothing twice');
});

test('a failed start stops the failing part and every part before it, in reverse', async () => {
  const { calls, part } = recorder();
  const runner = new PartRunner();
  await assert.rejects(
    runner.start([part('a'), part('b'), part('c', { failStart: true }), part('d')], ctx),
    /c cannot start/,
  );
  await runner.stop(ctx);
  assert.deepEqual(calls, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('a part whose stop throws does not keep the others from stopping; the error comes back', async () => {
  const { calls, part } = recorder();
  const runner = new PartRunner();
  await runner.start([part('a'), part('b', { failStop: true }), part('c')], ctx);
  lines.length = 0;
  await assert.rejects(runner.stop(ctx), /b cannot stop/);
  assert.deepEqual(calls.slice(3), ['stop c', 'stop b', 'stop a']);
  assert.equal(JSON.parse(lines[0] ?? '{}').event, 'agent.part_stop_failed');
  assert.equal(JSON.parse(lines[0] ?? '{}').part, 'b');
});

test('the agent parts are listed once each, data dir first and commands last', () => {
  const names = agentParts().map((p) => p.name);
  assert.deepEqual(names, [
    'data-dir',
    'cache',
    'ingest',
    'bridge',
    'broker',
    'ingest-workers',
    'external',
    'hal',
    'http',
    'timers',
    'ota-trial',
    'commands',
  ]);
});

test('an agent whose start fails releases what it took: the next agent gets the data dir', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edgeflow-parts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = validateConfig({ dataDir: dir, ingest: { durability: 'memory' } }, 'test');
  const events: string[] = [];
  const notifier: SystemdNotifier = {
    active: false,
    ready: () => void events.push('READY'),
    status: () => undefined,
    watchdog: () => undefined,
    stopping: () => void events.push('STOPPING'),
  };
  const deps = {
    log: pino({ level: 'silent' }),
    now: Date.now,
    notifier,
    env: {},
    pid: process.pid,
    defaultMetrics: false,
  };
  const failing: AgentPart = {
    name: 'failing',
    start: () => {
      throw new Error('no');
    },
  };
  await assert.rejects(Agent.start(config, deps, [dataDirPart, cachePart, failing]), /no/);
  assert.deepEqual(events, ['STOPPING'], 'never READY');
  const agent = await Agent.start(config, deps, [dataDirPart, cachePart]);
  assert.deepEqual(events, ['STOPPING', 'READY']);
  await agent.stop('test');
});
