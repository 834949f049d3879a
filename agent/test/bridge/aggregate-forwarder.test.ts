import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { aggregateRuleSchema } from '../../src/bridge/aggregate-config.js';
import {
  AggregateForwarder,
  type AggregateForwarderDeps,
} from '../../src/bridge/aggregate-forwarder.js';

const log = pino({ level: 'silent' });
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const rules = [
  aggregateRuleSchema.parse({ match: 'sensors/+/temp', windowSec: 60, stats: ['count', 'mean'] }),
  aggregateRuleSchema.parse({ match: 'sensors/#', windowSec: 300, topic: '{device}/5m/{sensor}' }),
];

/** A fake clock with one-shot timers: `advance` fires what is due, in time order. */
class FakeClock {
  now = T0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = ++this.#id;
    this.#timers.push({ at: this.now + ms, fn, id });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.#timers = this.#timers.filter((t) => t.id !== h);
  };
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const t = this.#timers[0];
      if (t === undefined || t.at > end) break;
      this.#timers.shift();
      this.now = t.at;
      t.fn();
    }
    this.now = end;
  }
}

async function setup(dir?: string) {
  const stateDir = dir ?? (await mkdtemp(join(tmpdir(), 'ef-agg-')));
  const clock = new FakeClock();
  const sent: { topic: string; body: Record<string, unknown> }[] = [];
  const deps: AggregateForwarderDeps = {
    log,
    now: () => clock.now,
    statePath: join(stateDir, 'aggregate.json'),
    sensorPrefix: 'sensors',
    maxPayloadBytes: 65536,
    append: (topic, payload) => {
      sent.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> });
      return Promise.resolve();
    },
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  };
  return { stateDir, clock, sent, deps };
}
const tick = () => new Promise((r) => setImmediate(r));

test('the timer emits one summary per key when the window closes; first rule wins', async () => {
  const { clock, sent, deps } = await setup();
  const f = await AggregateForwarder.open(rules, deps);
  clock.advance(10_000);
  assert.equal(f.offer('sensors/gw/temp', Buffer.from('{"v":20,"u":"Cel"}')), true);
  assert.equal(f.offer('sensors/gw/temp', Buffer.from('{"v":22,"u":"Cel"}')), true);
  assert.equal(f.offer('sensors/gw/door', Buffer.from('{"v":"open"}')), true);
  assert.equal(f.offer('alerts/x', Buffer.from('1')), false, 'no rule: raw path decides');
  clock.advance(49_999);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(sent, [
    {
      topic: 'agg/60s/gw/temp',
      body: {
        key: 'gw/temp',
        start: T0,
        end: T0 + 60_000,
        count: 2,
        mean: 21,
        unit: 'Cel',
        partial: false,
      },
    },
  ]);
  clock.advance(240_000);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]?.topic, 'gw/5m/door');
  assert.deepEqual(sent[1]?.body, {
    key: 'gw/door',
    start: T0,
    end: T0 + 300_000,
    count: 1,
    last: 'open',
    unit: null,
    partial: false,
  });
});

test('SenML packs give one window per resolved name; bad input is skipped, not aggregated', async () => {
  const { clock, sent, deps } = await setup();
  const f = await AggregateForwarder.open(rules.slice(1), deps);
  const pack = '[{"bn":"x:","n":"rh","v":40,"u":"%RH"},{"n":"co2","v":600,"u":"ppm"}]';
  f.offer('sensors/gw/pack', Buffer.from(pack));
  f.offer('sensors/gw/pack', Buffer.from('not json {'));
  f.offer('sensors/too/many/levels', Buffer.from('1'));
  clock.advance(300_000);
  assert.deepEqual(sent.map((s) => s.body.key).sort(), ['gw/x:co2', 'gw/x:rh']);
});

test('a clean stop checkpoints open windows; the next start resumes them, not partial', async () => {
  const a = await setup();
  const f = await AggregateForwarder.open(rules, a.deps);
  f.offer('sensors/gw/temp', Buffer.from('10'));
  a.clock.advance(20_000);
  await f.checkpoint();
  const saved = JSON.parse(await readFile(a.deps.statePath, 'utf8')) as { clean: boolean };
  assert.equal(saved.clean, true);

  const b = await setup(a.stateDir);
  b.clock.now = a.clock.now + 5_000;
  const g = await AggregateForwarder.open(rules, b.deps);
  assert.equal(g.openWindows, 1);
  g.offer('sensors/gw/temp', Buffer.from('30'));
  b.clock.advance(60_000);
  assert.deepEqual(b.sent[0]?.body, {
    key: 'gw/temp',
    start: T0,
    end: T0 + 60_000,
    count: 2,
    mean: 20,
    unit: null,
    partial: false,
  });
});

test('a window that ended while the agent was stopped is emitted at start', async () => {
  const a = await setup();
  const f = await AggregateForwarder.open(rules, a.deps);
  f.offer('sensors/gw/temp', Buffer.from('10'));
  await f.checkpoint();
  const b = await setup(a.stateDir);
  b.clock.now = T0 + 3_600_000;
  await AggregateForwarder.open(rules, b.deps);
  assert.equal(b.sent.length, 1);
  assert.equal(b.sent[0]?.body.count, 1);
});

test('after a crash (no clean stop) each key’s first summary is partial, later ones not', async () => {
  const a = await setup();
  const f = await AggregateForwarder.open(rules, a.deps);
  f.offer('sensors/gw/temp', Buffer.from('10')); // lost: never checkpointed
  // crash: no checkpoint(); the state file still says clean: false
  const b = await setup(a.stateDir);
  b.clock.now = T0 + 30_000;
  const g = await AggregateForwarder.open(rules, b.deps);
  assert.equal(g.openWindows, 0);
  g.offer('sensors/gw/temp', Buffer.from('20'));
  b.clock.advance(30_000);
  g.offer('sensors/gw/temp', Buffer.from('30'));
  b.clock.advance(60_000);
  assert.deepEqual(
    b.sent.map((s) => [s.body.start, s.body.count, s.body.partial]),
    [
      [T0, 1, true],
      [T0 + 60_000, 1, false],
    ],
  );
});

test('summaries the outbox refused at stop are kept in the checkpoint', async () => {
  const a = await setup();
  let refuse = false;
  const append = a.deps.append;
  a.deps.append = (t, p) => (refuse ? Promise.reject(new Error('outbox is closed')) : append(t, p));
  const f = await AggregateForwarder.open(rules.slice(0, 1), a.deps);
  f.offer('sensors/gw/temp', Buffer.from('1'));
  a.clock.now = T0 + 60_000; // ended, but the timer has not run yet
  refuse = true;
  f.stop();
  await tick();
  await f.checkpoint();
  const b = await setup(a.stateDir);
  b.clock.now = T0 + 61_000;
  await AggregateForwarder.open(rules.slice(0, 1), b.deps);
  assert.equal(b.sent.length, 1);
  assert.equal(b.sent[0]?.body.partial, false);
});
