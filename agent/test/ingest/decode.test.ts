import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePayload } from '../../src/ingest/decode.js';

const NOW = 1_732_700_000_000;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (s: string, max = 65536) => decodePayload(enc(s), NOW, max);

test('bare numbers, with the receive time as timestamp', () => {
  for (const [s, v] of [
    ['21.5', 21.5],
    ['-3', -3],
    [' 1e3 ', 1000],
    ['.5', 0.5],
  ] as const) {
    assert.deepEqual(dec(s), {
      ok: true,
      reading: { value: v, unit: null, ts: NOW, quality: 'good' },
    });
  }
});

test('booleans', () => {
  assert.deepEqual(dec('true'), {
    ok: true,
    reading: { value: true, unit: null, ts: NOW, quality: 'good' },
  });
});

test('JSON {v,u,t}: t in seconds or milliseconds', () => {
  assert.deepEqual(dec('{"v":21.5,"u":"Cel","t":1732700000}'), {
    ok: true,
    reading: { value: 21.5, unit: 'Cel', ts: 1_732_700_000_000, quality: 'good' },
  });
  const r = dec('{"v":"open","t":1732700000123}');
  if (!r.ok) assert.fail(r.detail);
  assert.equal(r.reading.ts, 1_732_700_000_123);
  assert.equal(r.reading.value, 'open');
});

test('rejections carry a reason', () => {
  const cases: [string, string][] = [
    ['', 'empty'],
    ['abc', 'bad_shape'],
    ['NaN', 'not_finite'],
    ['Infinity', 'not_finite'],
    ['1e999', 'not_finite'],
    ['{"v":1', 'bad_json'],
    ['{"v":1e999}', 'not_finite'],
    ['{"u":"Cel"}', 'bad_shape'],
    ['{"v":{"x":1}}', 'bad_shape'],
    ['{"v":1,"x":2}', 'bad_shape'],
    ['{"v":1,"u":5}', 'bad_shape'],
    ['{"v":1,"t":"yesterday"}', 'bad_timestamp'],
    ['{"v":1,"t":-5}', 'bad_timestamp'],
    ['[1,2]', 'bad_shape'],
    ['{"v":' + '['.repeat(5000) + ']'.repeat(5000) + '}', 'bad_shape'],
  ];
  for (const [input, reason] of cases) {
    const r = dec(input);
    assert.equal(r.ok, false, input.slice(0, 40));
    if (!r.ok) assert.equal(r.reason, reason, input.slice(0, 40));
  }
});

test('oversized payloads are rejected before decoding', () => {
  const r = dec('1'.repeat(100), 64);
  assert.deepEqual(r, { ok: false, reason: 'too_large', detail: '100 bytes > 64' });
});

test('invalid UTF-8 is rejected', () => {
  const r = decodePayload(new Uint8Array([0x31, 0xff, 0xfe]), NOW, 100);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'not_utf8');
});
