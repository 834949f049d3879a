import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { SnapshotStore } from '../../src/cache/snapshot.js';
import { DurableLog } from '../../src/wal/durable-log.js';
import { nodeLogFileOps, type LogFileOps } from '../../src/wal/group-commit-log.js';
import type { WalRecord } from '../../src/wal/records.js';

const log = pino({ level: 'silent' });

async function openLog(dir: string, ops?: LogFileOps, onSync?: (s: number, n: number) => void) {
  const cache = new SensorCache({ shards: 4, now: () => 1000 });
  const { durable, report } = await DurableLog.open(
    { dir: join(dir, 'wal'), maxSegmentBytes: 1 << 20 },
    {
      cache,
      snapshots: new SnapshotStore(dir),
      log,
      now: () => 1000,
      ...(ops ? { ops } : {}),
      ...(onSync ? { onSync } : {}),
    },
  );
  return { durable, report, cache };
}

const reading = (k: string, v: number, at = 5): WalRecord => ({
  t: 'p',
  c: 'dev',
  m: v,
  topic: `sensors/${k}`,
  r: [{ k, v, u: null, ts: v, src: 'mqtt:dev', q: 'good', at }],
});

test('one fdatasync covers every record appended meanwhile; effects apply in log order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-wal-'));
  const groups: number[] = [];
  const { durable, cache } = await openLog(dir, undefined, (_s, n) => groups.push(n));
  const applied: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      durable.append(reading('a/b', i + 1), () => {
        applied.push(i + 1);
        cache.store('a/b', { value: i + 1, unit: null, ts: i + 1, source: 'x', quality: 'good' });
      }),
    ),
  );
  assert.deepEqual(groups, [50], 'fifty appends in one tick -> one group commit');
  assert.deepEqual(
    applied,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.equal(durable.inflightIncoming, 50);
  await durable.append({ t: 'r', c: 'dev', m: 1 });
  assert.equal(durable.inflightIncoming, 49);
});

test('after a crash the log replays into the cache (seq exact) and the duplicate filter', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-wal-'));
  const first = await openLog(dir);
  for (let i = 1; i <= 3; i++) await first.durable.append(reading('a/b', i, 100 + i));
  await first.durable.append({ t: 'r', c: 'dev', m: 2 });
  // no close(): the process "dies" here; add a torn tail as a crash mid-write would
  const seg = (await readdir(join(dir, 'wal')))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .at(-1);
  await appendFile(join(dir, 'wal', seg as string), Buffer.from([200, 0, 0, 0, 1, 2]));

  const second = await openLog(dir);
  assert.equal(second.report.records, 4);
  assert.equal(second.report.readings, 3);
  assert.equal(second.report.tornBytes, 6);
  const r = second.cache.get('a/b');
  assert.equal(r?.seq, 3);
  assert.equal(r?.receivedAt, 103, 'the original receive time is kept');
  assert.deepEqual([...(second.durable.incoming.get('dev')?.keys() ?? [])], [1, 3]);
  // compacted: the snapshot holds everything, the log starts empty
  const snap = JSON.parse(await readFile(join(dir, 'cache', 'snapshot.json'), 'utf8')) as {
    wal: { incoming: unknown };
  };
  assert.deepEqual(snap.wal.incoming, [
    [
      'dev',
      [
        [1, 'sensors/a/b'],
        [3, 'sensors/a/b'],
      ],
    ],
  ]);
  await second.durable.close();
  const third = await openLog(dir);
  assert.equal(third.report.records, 0);
  assert.equal(third.cache.get('a/b')?.seq, 3);
  assert.equal(third.durable.inflightIncoming, 2);
});

test('disk full: the group is rejected, truncated away, not applied, and not replayed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-wal-'));
  let full = false;
  const ops: LogFileOps = {
    ...nodeLogFileOps,
    writev: async (fd, bufs, pos) => {
      if (!full) return nodeLogFileOps.writev(fd, bufs, pos);
      // a partial write, then ENOSPC
      await nodeLogFileOps.writev(fd, [(bufs[0] as Buffer).subarray(0, 5)], pos);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    },
  };
  const { durable } = await openLog(dir, ops);
  await durable.append(reading('a/b', 1));
  full = true;
  let applied = false;
  await assert.rejects(
    durable.append(reading('a/b', 2), () => (applied = true)),
    /ENOSPC/,
  );
  assert.equal(applied, false);
  assert.equal(durable.inflightIncoming, 1, 'the failed id is not in the duplicate filter');
  full = false;
  await durable.append(reading('a/b', 3));
  const again = await openLog(dir);
  assert.equal(again.report.tornBytes, 0, 'the partial write was truncated away');
  assert.equal(again.cache.get('a/b')?.seq, 2, 'records 1 and 3 only');
});
