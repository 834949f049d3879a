import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  SensorStore,
  SPARK_POINTS,
  isStale,
  orderByMembership,
  view,
  type SensorTuple,
  type ViewOptions,
} from '../src/lib/sensors.js';

const t = (
  key: string,
  value: number | string | boolean,
  seq: number,
  receivedAt: number,
  extra: Partial<{ unit: string; source: string; quality: 'good' | 'stale' | 'bad' }> = {},
): SensorTuple => [
  key,
  value,
  extra.unit ?? null,
  receivedAt - 5,
  extra.quality ?? 'good',
  extra.source ?? 'mqtt:dev',
  seq,
  receivedAt,
];

const opts = (o: Partial<ViewOptions> = {}): ViewOptions => ({
  query: '',
  quality: 'all',
  sort: 'key',
  dir: 'asc',
  now: 10_000,
  staleAfterMs: 60_000,
  ...o,
});

test('a snapshot replaces the rows; a delta applies newer readings only', () => {
  const s = new SensorStore();
  s.snapshot([t('a/x', 1, 3, 1000), t('b/y', 2, 1, 1000)]);
  assert.equal(s.rows.size, 2);
  const v0 = s.version;
  assert.equal(s.delta([t('a/x', 0, 2, 900), t('a/x', 5, 4, 1100), t('c/z', 'on', 1, 1100)]), 2);
  assert.equal(s.rows.get('a/x')?.value, 5, 'an older seq does not replace a newer one');
  assert.equal(s.rows.size, 3);
  assert.ok(s.version > v0);
  assert.equal(s.delta([t('a/x', 5, 4, 1100)]), 0, 'a repeat changes nothing');
});

test('sparklines keep the last SPARK_POINTS numeric values; history is merged in front', () => {
  const s = new SensorStore();
  for (let i = 1; i <= SPARK_POINTS + 10; i++) s.delta([t('a/x', i, i, 1000 + i)]);
  const pts = s.spark.get('a/x') ?? [];
  assert.equal(pts.length, SPARK_POINTS);
  assert.equal(pts.at(-1)?.[1], SPARK_POINTS + 10);
  s.delta([t('b/s', 'text', 1, 5000)]);
  assert.equal(s.spark.get('b/s'), undefined, 'strings have no sparkline');
  const fresh = new SensorStore();
  fresh.delta([t('k/1', 9, 9, 2000)]);
  fresh.history('k/1', [
    [1000, 7],
    [1500, 8],
    [2000, 99],
  ]);
  assert.deepEqual(fresh.spark.get('k/1'), [
    [1000, 7],
    [1500, 8],
    [2000, 9],
  ]);
});

test('the view filters by every query word and by quality, with stale by age or by the agent', () => {
  const s = new SensorStore();
  s.snapshot([
    t('dev1/temp', 21, 1, 9_000, { unit: 'Cel', source: 'mqtt:a' }),
    t('dev1/hum', 40, 1, 9_000, { unit: '%RH', source: 'mqtt:a' }),
    t('dev2/temp', 22, 1, -60_000, { unit: 'Cel', source: 'mqtt:b' }),
    t('hal.env/temp', 23, 1, 9_000, { quality: 'stale', source: 'i2c-1/0x76/bme280' }),
    t('dev3/x', 0, 1, 9_000, { quality: 'bad' }),
  ]);
  const keys = (o: Partial<ViewOptions>) => view(s.rows.values(), opts(o)).map((r) => r.key);
  assert.deepEqual(keys({ query: 'temp cel' }), ['dev1/temp', 'dev2/temp']);
  assert.deepEqual(keys({ query: 'BME280' }), ['hal.env/temp']);
  assert.deepEqual(keys({ quality: 'stale' }), ['dev2/temp', 'hal.env/temp']);
  assert.deepEqual(keys({ quality: 'bad' }), ['dev3/x']);
  assert.deepEqual(
    keys({ quality: 'good' }),
    ['dev1/hum', 'dev1/temp', 'dev3/x'].filter((k) => k !== 'dev3/x'),
  );
  const r = s.rows.get('dev2/temp');
  assert.ok(r && isStale(r, 10_000, 60_000) && !isStale(r, 10_000, 120_000));
});

test('sorting is stable on the key and follows the direction', () => {
  const s = new SensorStore();
  s.snapshot([t('b', 2, 5, 3000), t('a', 2, 1, 1000), t('c', 'x', 2, 2000), t('d', true, 3, 4000)]);
  const keys = (o: Partial<ViewOptions>) => view(s.rows.values(), opts(o)).map((r) => r.key);
  assert.deepEqual(
    keys({ sort: 'value' }),
    ['a', 'b', 'd', 'c'],
    'numbers, booleans, strings; ties by key',
  );
  assert.deepEqual(keys({ sort: 'value', dir: 'desc' }), ['c', 'd', 'a', 'b']);
  assert.deepEqual(keys({ sort: 'age' }), ['d', 'b', 'c', 'a'], 'youngest first');
  assert.deepEqual(keys({ sort: 'seq', dir: 'desc' }), ['b', 'd', 'c', 'a']);
});

test('membership moves only when a key appears or its source or unit change', () => {
  const s = new SensorStore();
  s.snapshot([t('a', 1, 1, 1000)]);
  const m0 = s.membership;
  s.delta([t('a', 2, 2, 1100)]);
  assert.equal(s.membership, m0, 'a new value keeps the membership');
  s.delta([t('b', 1, 1, 1100)]);
  assert.equal(s.membership, m0 + 1, 'a new key');
  s.delta([t('a', 3, 3, 1200, { source: 'mqtt:other' })]);
  assert.equal(s.membership, m0 + 2, 'a new source');
  assert.ok(orderByMembership({ sort: 'key', quality: 'all' }));
  assert.ok(!orderByMembership({ sort: 'age', quality: 'all' }));
  assert.ok(!orderByMembership({ sort: 'key', quality: 'stale' }));
});
