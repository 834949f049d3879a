import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter } from '../../src/wal/byte-writer.js';
import {
  BATCH_V1,
  decodeFramePayload,
  encodeRecord,
  encodeRecordInto,
  type WalRecord,
} from '../../src/wal/records.js';

const records: WalRecord[] = [
  {
    t: 'p',
    c: 'client-é',
    m: 65535,
    topic: 'sensors/d/pack',
    r: [
      {
        k: 'd/a',
        v: -1.5e300,
        u: 'Cel',
        ts: 1732700000123,
        src: 'mqtt:client-é',
        q: 'good',
        at: 5,
      },
      { k: 'd/b', v: 'ünïcode ✓', u: null, ts: 1, src: 'mqtt:x', q: 'stale', at: 6 },
      { k: 'd/c', v: true, u: '', ts: 2, src: 'hal:x', q: 'bad', at: 7 },
      { k: 'd/d', v: false, u: null, ts: 3, src: 's', q: 'good', at: 8 },
    ],
  },
  { t: 'p', c: 'c', m: 1, topic: '' },
  { t: 'p', r: [{ k: 'hal.x/y', v: 0, u: null, ts: 9, src: 'hal:y', q: 'good', at: 9 }] },
  { t: 'r', c: 'c', m: 7 },
  { t: 'x', c: 'c' },
  { t: 'sc', c: 'c' },
  { t: 'ox', c: 'c' },
  { t: 'sn', c: 'persistent-é' },
  { t: 'sx', c: 'persistent-é' },
];

test('binary batch: every record shape round-trips', () => {
  const w = new ByteWriter(16); // tiny: exercises growth
  w.u8(BATCH_V1);
  for (const r of records) encodeRecordInto(w, r);
  assert.deepEqual(decodeFramePayload(w.buf.subarray(0, w.len)), records);
});

test('a truncated or unknown batch is rejected whole; a JSON frame (earlier format) still reads', () => {
  const w = new ByteWriter();
  w.u8(BATCH_V1);
  for (const r of records) encodeRecordInto(w, r);
  assert.equal(decodeFramePayload(w.buf.subarray(0, w.len - 3)), undefined);
  assert.equal(decodeFramePayload(Buffer.from([BATCH_V1, 99])), undefined);
  const legacy = Buffer.from(encodeRecord(records[3] as WalRecord));
  assert.deepEqual(decodeFramePayload(legacy), [records[3]]);
});
