// Test fixture: a DurablePersistence over its own write-ahead log in `dir`. Opening the same
// directory again without closing the first simulates a SIGKILL (no final checkpoint).
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import pino from 'pino';
import { DurablePersistence } from '../../src/broker/durable-persistence.js';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { SnapshotStore } from '../../src/cache/snapshot.js';
import { DurableLog } from '../../src/wal/durable-log.js';

export async function openDurablePersistence(dir: string) {
  const { durable } = await DurableLog.open(
    { dir: join(dir, 'wal'), maxSegmentBytes: 1 << 20 },
    {
      cache: new SensorCache({ shards: 1 }),
      snapshots: new SnapshotStore(dir),
      log: pino({ level: 'silent' }),
      now: Date.now,
    },
  );
  const p = new DurablePersistence({ durable, sessions: durable.sessions });
  await p.setup({ id: 'broker-test' });
  return { durable, p };
}

/** Everything a persistence stream yields. */
export async function readAll<T>(s: Readable): Promise<T[]> {
  const out: T[] = [];
  for await (const x of s) out.push(x as T);
  return out;
}
