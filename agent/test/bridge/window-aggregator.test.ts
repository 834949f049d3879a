import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateRuleSchema } from '../../src/bridge/aggregate-config.js';
import {
  summaryTopic,
  toSummary,
  WindowAggregator,
  windowStart,
  type WindowState,
} from '../../src/bridge/window-aggregator.js';

const rule = aggregateRuleSchema.parse({ match: 'sensors/#', windowSec: 60 });
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0); // a window boundary

function make() {
  const out: WindowState[] = [];
  const agg = new WindowAggregator(rule, (w) => out.push(w));
  return { agg, out };
}

test('windows are aligned to wall-clock multiples of windowSec', () => {
  assert.equal(windowStart(T0 + 59_999, 60_000), T0);
  assert.equal(windowStart(T0 + 60_000, 60_000), T0 + 60_000);
  const { agg, out } = make();
  agg.add('d/t', { value: 1, unit: 'Cel' }, T0 + 42_000);
  agg.flushDue(T0 + 59_999);
  assert.equal(out.length, 0, 'still open before its end');
  agg.flushDue(T0 + 60_000);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.start, T0);
  assert.equal(out[0]?.end, T0 + 60_000);
});

test('numeric window: count, min, max, mean, last and unit', () => {
  const { agg, out } = make();
  for (const [i, v] of [3, -1, 7, 5].entries()) agg.add('d/t', { value: v, unit: 'Cel' }, T0 + i);
  agg.flushDue(T0 + 60_000);
  assert.deepEqual(toSummary(out[0] as WindowState, rule.stats), {
    key: 'd/t',
    start: T0,
    end: T0 + 60_000,
    count: 4,
    min: -1,
    max: 7,
    mean: 3.5,
    last: 5,
    unit: 'Cel',
    partial: false,
  });
});

test('non-numeric or mixed-unit windows carry count and last only', () => {
  const { agg, out } = make();
  agg.add('d/state', { value: 'open', unit: null }, T0);
  agg.add('d/state', { value: 'closed', unit: null }, T0 + 1);
  agg.add('d/flag', { value: true, unit: null }, T0);
  agg.add('d/mix', { value: 1, unit: 'Cel' }, T0);
  agg.add('d/mix', { value: 2, unit: '%RH' }, T0 + 1);
  agg.add('d/num-then-str', { value: 1, unit: null }, T0);
  agg.add('d/num-then-str', { value: 'x', unit: null }, T0 + 1);
  agg.flushDue(T0 + 60_000);
  const s = Object.fromEntries(out.map((w) => [w.key, toSummary(w, rule.stats)]));
  assert.deepEqual(s['d/state'], {
    key: 'd/state',
    start: T0,
    end: T0 + 60_000,
    count: 2,
    last: 'closed',
    unit: null,
    partial: false,
  });
  assert.equal(s['d/flag']?.last, true);
  assert.equal(s['d/mix']?.mean, undefined);
  assert.equal(s['d/mix']?.unit, '%RH');
  assert.equal(s['d/num-then-str']?.min, undefined);
  assert.equal(s['d/num-then-str']?.count, 2);
});

test('a reading in a later window closes the key’s previous window at once', () => {
  const { agg, out } = make();
  agg.add('d/t', { value: 1, unit: null }, T0);
  agg.add('d/t', { value: 2, unit: null }, T0 + 61_000);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.count, 1);
  assert.equal(agg.nextDue(), T0 + 120_000);
});

test('flushDue emits in start order, then key order; stats select the fields', () => {
  const { agg, out } = make();
  agg.add('b/t', { value: 1, unit: null }, T0);
  agg.add('a/t', { value: 1, unit: null }, T0);
  agg.flushDue(T0 + 60_000);
  assert.deepEqual(
    out.map((w) => w.key),
    ['a/t', 'b/t'],
  );
  assert.deepEqual(Object.keys(toSummary(out[0] as WindowState, ['max'])).sort(), [
    'end',
    'key',
    'max',
    'partial',
    'start',
    'unit',
  ]);
});

test('after a crash each key’s first window is partial, the next ones are not', () => {
  const { agg, out } = make();
  agg.markUncleanStart();
  agg.add('d/t', { value: 1, unit: null }, T0 + 31_000);
  agg.add('d/t', { value: 2, unit: null }, T0 + 61_000);
  agg.add('d/u', { value: 3, unit: null }, T0 + 130_000);
  agg.flushDue(T0 + 200_000);
  assert.deepEqual(
    out.map((w) => [w.key, w.partial]),
    [
      ['d/t', true],
      ['d/t', false],
      ['d/u', true],
    ],
  );
});

test('snapshot and restore keep a window; the older of two for one key is emitted', () => {
  const a = make();
  a.agg.add('d/t', { value: 4, unit: 'W' }, T0);
  const saved = a.agg.snapshot();
  const b = make();
  const older = { ...(saved[0] as WindowState), start: T0 - 60_000, end: T0, count: 9 };
  b.agg.restore(saved[0] as WindowState);
  b.agg.restore(older);
  assert.equal(b.out.length, 1);
  assert.equal(b.out[0]?.count, 9);
  b.agg.add('d/t', { value: 6, unit: 'W' }, T0 + 1);
  b.agg.flushDue(T0 + 60_000);
  assert.equal(toSummary(b.out[1] as WindowState, rule.stats).mean, 5);
});

test('summary topics fill {key}, {device}, {sensor} and {windowSec}', () => {
  assert.equal(summaryTopic('agg/{windowSec}s/{key}', 'gw/temp', 60), 'agg/60s/gw/temp');
  assert.equal(summaryTopic('{device}/stats/{sensor}', 'gw/temp', 60), 'gw/stats/temp');
});
