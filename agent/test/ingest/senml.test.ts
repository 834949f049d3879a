import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/ingest/decode.js';

const NOW = 1_732_700_000_000;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (s: string, max = 65536) => decodeMessage(enc(s), NOW, max);

test('SenML: base name, time, unit and value resolve per RFC 8428', () => {
  const r = dec(
    JSON.stringify([
      { bn: 'room1.', bt: 1732700000, bu: 'Cel', bv: 20, n: 'temp', v: 1.5 },
      { n: 'temp', t: 10, v: 2 },
      { n: 'hum', u: '%RH', v: 40, bv: 0 },
      { n: 'door', vb: true },
      { n: 'label', vs: 'ok' },
      { n: 'energy', bs: 100, s: 5 },
    ]),
  );
  if (!r.ok) assert.fail(r.detail);
  assert.deepEqual(
    r.readings.map((x) => [x.name, x.reading.value, x.reading.unit, x.reading.ts]),
    [
      ['room1.temp', 21.5, 'Cel', 1_732_700_000_000],
      ['room1.temp', 22, 'Cel', 1_732_700_010_000],
      ['room1.hum', 40, '%RH', 1_732_700_000_000],
      ['room1.door', true, 'Cel', 1_732_700_000_000],
      ['room1.label', 'ok', 'Cel', 1_732_700_000_000],
      ['room1.energy', 105, 'Cel', 1_732_700_000_000],
    ],
  );
});

test('SenML: times below 2^28 are relative to now; no time means now', () => {
  const r = dec('[{"n":"a","v":1,"t":-5},{"n":"b","v":2}]');
  if (!r.ok) assert.fail(r.detail);
  assert.deepEqual(
    r.readings.map((x) => x.reading.ts),
    [NOW - 5000, NOW],
  );
});

test('the existing single-value forms still decode through decodeMessage', () => {
  const r = dec('{"v":21.5,"u":"Cel","t":1732700000}');
  assert.deepEqual(r, {
    ok: true,
    readings: [{ name: null, reading: { value: 21.5, unit: 'Cel', ts: NOW, quality: 'good' } }],
  });
});

test('bad input is rejected with a reason', () => {
  const cases: [string | Uint8Array, string][] = [
    ['[]', 'bad_shape'],
    ['[1]', 'bad_shape'],
    ['[{"n":"a"}]', 'bad_shape'],
    ['[{"n":"a","v":1,"vs":"x"}]', 'bad_shape'],
    ['[{"n":"a","v":"1"}]', 'bad_shape'],
    ['[{"bn":5,"v":1}]', 'bad_shape'],
    ['[{"bt":"yesterday","v":1}]', 'bad_shape'],
    ['[{"bver":10,"v":1},{"bver":5,"v":2}]', 'bad_shape'],
    ['[{"bver":11,"v":1}]', 'bad_shape'],
    ['[{"v":1,"x_":1}]', 'bad_shape'],
    ['[{"bv":1e308,"v":1e308}]', 'not_finite'],
    ['[{"v":1,"t":"now"}]', 'bad_timestamp'],
    ['[{"v":1,"bt":-2e9}]', 'bad_timestamp'],
    ['[{"v":1', 'bad_json'],
    ['[NaN]', 'bad_json'],
    ['[{"v":Infinity}]', 'bad_json'],
    ['[' + '['.repeat(100000) + ']'.repeat(100000) + ']', 'bad_shape'],
    [JSON.stringify(Array.from({ length: 1001 }, () => ({ v: 1 }))), 'bad_shape'],
    [new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]), 'not_utf8'],
    [new Uint8Array([0x00, 0x01, 0x02, 0xff]), 'not_utf8'],
  ];
  for (const [input, reason] of cases) {
    const r = decodeMessage(typeof input === 'string' ? enc(input) : input, NOW, 1 << 21);
    const label = typeof input === 'string' ? input.slice(0, 40) : String(input);
    assert.equal(r.ok, false, label);
    if (!r.ok) assert.equal(r.reason, reason, label);
  }
});

test('a 10 MB payload is rejected by size before any parsing', () => {
  const big = new Uint8Array(10 * 1024 * 1024).fill(0x5b);
  const r = decodeMessage(big, NOW, 65536);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'too_large');
});
