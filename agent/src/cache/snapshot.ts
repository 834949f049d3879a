import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@edgeflow/core';
import type { Reading } from './reading.js';

const FORMAT = 'edgeflow-cache-snapshot';
const VERSION = 1;

export type SnapshotLoad =
  | { kind: 'absent' }
  | { kind: 'loaded'; readings: Reading[]; wal?: unknown }
  | { kind: 'corrupt'; reason: string; movedTo: string };

function isReading(r: unknown): r is Reading {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.key === 'string' &&
    (typeof o.value === 'number' || typeof o.value === 'string' || typeof o.value === 'boolean') &&
    (typeof o.unit === 'string' || o.unit === null) &&
    typeof o.ts === 'number' &&
    typeof o.seq === 'number' &&
    Number.isInteger(o.seq) &&
    typeof o.source === 'string' &&
    typeof o.receivedAt === 'number' &&
    (o.quality === 'good' || o.quality === 'stale' || o.quality === 'bad')
  );
}

/**
 * Cache snapshots in `<dataDir>/cache/snapshot.json`, written atomically. The `cache/` folder
 * (snapshot and WAL) is what OTA snapshots before an update and restores on rollback.
 */
export class SnapshotStore {
  readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'cache', 'snapshot.json');
  }

  /**
   * `wal` is the write-ahead log's checkpoint (first segment not covered, incoming QoS 2 ids):
   * it must be saved in the same atomic file as the readings it is consistent with.
   */
  async save(readings: Iterable<Reading>, now: number, wal?: unknown): Promise<number> {
    const list = [...readings];
    const doc: Record<string, unknown> = { format: FORMAT, version: VERSION, savedAt: now };
    if (wal !== undefined) doc.wal = wal;
    doc.readings = list;
    const body = JSON.stringify(doc);
    await atomicWriteFile(this.path, body, { createDir: true });
    return list.length;
  }

  /** A corrupt snapshot is moved aside (never deleted) so that nothing is silently lost. */
  async load(now: number): Promise<SnapshotLoad> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
      throw err;
    }
    const reason = checkSnapshot(text);
    if (typeof reason === 'string') {
      const movedTo = `${this.path}.${now}.corrupt`;
      await rename(this.path, movedTo);
      return { kind: 'corrupt', reason, movedTo };
    }
    return { kind: 'loaded', readings: reason.readings, wal: reason.wal };
  }
}

function checkSnapshot(text: string): { readings: Reading[]; wal: unknown } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  const o = doc as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object') return 'not an object';
  if (o.format !== FORMAT) return `format is ${JSON.stringify(o.format)}, expected ${FORMAT}`;
  if (o.version !== VERSION) return `version ${String(o.version)} is not supported (${VERSION})`;
  if (!Array.isArray(o.readings)) return 'readings is not an array';
  const bad = o.readings.findIndex((r) => !isReading(r));
  if (bad >= 0) return `readings[${bad}] is malformed`;
  return { readings: o.readings as Reading[], wal: o.wal };
}
