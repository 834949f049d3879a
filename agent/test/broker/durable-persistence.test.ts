import { test } from 'node:test';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DurablePersistence } from '../../src/broker/durable-persistence.js';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { SnapshotStore } from '../../src/cache/snapshot.js';
import { DurableLog } from '../../src/wal/durable-log.js';

// aedes-persistence's contract suite, run against our persistence (each instance over its own
// write-ahead log in a temporary directory).
const require = createRequire(import.meta.url);
const abstractSuite = require('aedes-persistence/abstract.js') as (opts: object) => void;

abstractSuite({
  test,
  testAsync: true,
  persistence: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ef-persist-'));
    const { durable } = await DurableLog.open(
      { dir: join(dir, 'wal'), maxSegmentBytes: 1 << 20 },
      {
        cache: new SensorCache({ shards: 1 }),
        snapshots: new SnapshotStore(dir),
        log: pino({ level: 'silent' }),
        now: Date.now,
      },
    );
    return new DurablePersistence({ durable, sessions: durable.sessions });
  },
});
