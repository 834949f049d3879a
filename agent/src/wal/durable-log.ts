import { close, open } from 'node:fs';
import { mkdir, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SensorCache } from '../cache/sensor-cache.js';
import type { SnapshotLoad, SnapshotStore } from '../cache/snapshot.js';
import { decodeFrames } from './frame.js';
import { GroupCommitLog, nodeLogFileOps, type LogFileOps } from './group-commit-log.js';
import { decodeFramePayload, encodeRecordInto, type WalRecord } from './records.js';
import { fsyncDir } from '@edgeflow/core';
import { interner } from '../ingest/source-name.js';
import { parseSessionSnapshot, SessionState, type SessionSnapshot } from './session-state.js';

export interface DurableLogOptions {
  /** Directory of the log segments (`<dataDir>/wal`). */
  dir: string;
  /** A checkpoint (snapshot + new segment) starts once the current segment is this large. */
  maxSegmentBytes: number;
}

export interface DurableLogDeps {
  cache: SensorCache;
  snapshots: SnapshotStore;
  log: Logger;
  now: () => number;
  ops?: LogFileOps;
  onSync?: (seconds: number, records: number) => void;
  onError?: (err: Error) => void;
}

export interface RecoveryReport {
  snapshot: SnapshotLoad['kind'];
  /** Set when the snapshot was corrupt and moved aside. */
  snapshotProblem?: { reason: string; movedTo: string };
  segments: number;
  records: number;
  readings: number;
  /** Bytes of torn or corrupt tail dropped (never acknowledged). */
  tornBytes: number;
  incoming: number;
}

/** What the snapshot stores about the log, in the same atomic file as the readings. */
interface Checkpoint {
  /** First segment not covered by the snapshot. */
  from: number;
  /** Incoming QoS 2 packet ids received and not yet released: [clientId, [[id, topic]]]. */
  incoming: [string, [number, string][]][];
  /** The broker's persistent sessions (absent in snapshots of earlier versions). */
  sessions?: SessionSnapshot;
}

const SEGMENT = /^(\d{10})\.wal$/;
const segName = (n: number) => `${String(n).padStart(10, '0')}.wal`;

function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, flags, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}
function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
}

function parseCheckpoint(v: unknown): Checkpoint | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.from !== 'number' || !Array.isArray(o.incoming)) return undefined;
  return o as unknown as Checkpoint;
}

/**
 * The durable state of the ingest path: the cache snapshot plus a write-ahead log of every
 * accepted message since. `append` resolves (and applies the record's effect) once the
 * fdatasync covering it returned; `open` replays the log after the snapshot, then compacts.
 */
export class DurableLog {
  /** Committed incoming QoS 2 ids per client (id -> topic): the persistent duplicate filter. */
  readonly incoming = new Map<string, Map<number, string>>();
  /** Committed persistent sessions of the broker (subscriptions, retained, outgoing queues). */
  readonly sessions = new SessionState();
  readonly #opts: DurableLogOptions;
  readonly #deps: DurableLogDeps;
  readonly #uncommittedByClient = new Map<string, number>();
  #log: GroupCommitLog | undefined;
  #segment = 0;
  #checkpointing: Promise<void> | undefined;
  #closed = false;
  #cutHook: (() => Promise<Map<string, Map<number, string>>>) | undefined;
  /** Readings of the replay the cache could not take (logged once). */
  #notCached = 0;

  private constructor(opts: DurableLogOptions, deps: DurableLogDeps) {
    this.#opts = opts;
    this.#deps = deps;
  }

  /** Restores the snapshot, replays the log into the cache and the duplicate filter, compacts. */
  static async open(
    opts: DurableLogOptions,
    deps: DurableLogDeps,
  ): Promise<{ durable: DurableLog; report: RecoveryReport }> {
    const d = new DurableLog(opts, deps);
    const report = await d.#recover();
    return { durable: d, report };
  }

  /** Incoming ids received and not released (in-flight QoS 2, committed). */
  get inflightIncoming(): number {
    let n = 0;
    for (const m of this.incoming.values()) n += m.size;
    return n;
  }

  get pendingRecords(): number {
    return this.#log?.pending ?? 0;
  }

  /** Whether client `c` has committed or in-progress incoming state. */
  knowsClient(c: string): boolean {
    return this.incoming.has(c) || (this.#uncommittedByClient.get(c) ?? 0) > 0;
  }

  /**
   * Appends a record; resolves after the group fsync that covers it, having first run
   * `onCommit` (in log order). Rejects if the record could not be made durable: then nothing of
   * it was applied and it will not be replayed.
   */
  append(rec: WalRecord, onCommit?: () => void): Promise<void> {
    return new Promise((resolve, reject) =>
      this.write(rec, onCommit, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * {@link append} without a promise (the per-message path): `done` is called once, after the
   * fsync covering the record (and after `onCommit`), or with the error.
   */
  write(rec: WalRecord, onCommit: (() => void) | undefined, done: (err?: Error) => void): void {
    const log = this.#log;
    if (log === undefined || this.#closed) {
      done(new Error('write-ahead log is closed'));
      return;
    }
    const c = rec.t === 'p' || rec.t === 'r' || rec.t === 'x' ? rec.c : undefined;
    if (c !== undefined)
      this.#uncommittedByClient.set(c, (this.#uncommittedByClient.get(c) ?? 0) + 1);
    log.appendRecord(
      (w) => encodeRecordInto(w, rec),
      () => {
        this.#applyIncoming(rec);
        onCommit?.();
      },
      (err) => {
        if (c !== undefined) {
          const n = (this.#uncommittedByClient.get(c) ?? 1) - 1;
          if (n === 0) this.#uncommittedByClient.delete(c);
          else this.#uncommittedByClient.set(c, n);
        }
        if (err === undefined && log.size >= this.#opts.maxSegmentBytes)
          this.#checkpointInBackground();
        done(err);
      },
    );
  }

  /**
   * Appends records another thread encoded (an ingest worker's batch: see WorkerLog). They join
   * the current group like any record; `onCommit` runs after the fsync covering them (in log
   * order), then `done`. The log does not read them: their incoming ids are the worker's
   * business ({@link onCut}), their queue entries the caller's (in `onCommit`).
   */
  writeEncoded(bytes: Uint8Array, onCommit: () => void, done: (err?: Error) => void): void {
    const log = this.#log;
    if (log === undefined || this.#closed) {
      done(new Error('write-ahead log is closed'));
      return;
    }
    log.appendRecord(
      (w) => w.raw(bytes),
      onCommit,
      (err) => {
        if (err === undefined && log.size >= this.#opts.maxSegmentBytes)
          this.#checkpointInBackground();
        done(err);
      },
    );
  }

  /**
   * Called at each checkpoint's cut (no group in flight, none starts until it resolves): it
   * must bring the cache up to date with every committed record of other threads and return
   * the committed incoming ids they hold, which the snapshot stores with this log's own.
   */
  onCut(hook: () => Promise<Map<string, Map<number, string>>>): void {
    this.#cutHook = hook;
  }

  #applyIncoming(rec: WalRecord): void {
    if (rec.t !== 'p' && rec.t !== 'r' && rec.t !== 'x') {
      this.sessions.apply(rec);
      return;
    }
    if (rec.t === 'p') {
      if (rec.q !== undefined) this.sessions.apply({ t: 'oe', cs: rec.q.cs, pk: rec.q.pk });
      if (rec.c === undefined || rec.m === undefined) return;
      let ids = this.incoming.get(rec.c);
      if (ids === undefined) this.incoming.set(rec.c, (ids = new Map<number, string>()));
      ids.set(rec.m, rec.topic ?? '');
    } else if (rec.t === 'r') {
      const ids = this.incoming.get(rec.c);
      ids?.delete(rec.m);
      if (ids?.size === 0) this.incoming.delete(rec.c);
    } else {
      this.incoming.delete(rec.c);
    }
  }

  #applyReplay(rec: WalRecord, intern: (s: string) => string): boolean {
    this.#applyIncoming(rec);
    if (rec.t !== 'p' || rec.r === undefined) return false;
    for (const r of rec.r) {
      const input = { value: r.v, unit: r.u, ts: r.ts, source: intern(r.src), quality: r.q };
      try {
        this.#deps.cache.apply(r.k, input, r.at);
      } catch (err) {
        // A full cache (cache.capacity lowered since) or text over cache.stringBytes (raised
        // before, lowered since): the reading stays in the log, the replay goes on.
        this.#notCached++;
        if (this.#notCached === 1)
          this.#deps.log.warn(
            { event: 'cache.replay_not_cached', code: (err as { code?: string }).code, key: r.k },
            'a logged reading does not fit the cache as configured now; replay continues',
          );
      }
    }
    return true;
  }

  #checkpointInBackground(): void {
    if (this.#checkpointing !== undefined || this.#closed) return;
    this.checkpoint().catch((err: unknown) =>
      this.#deps.log.error(
        { event: 'wal.checkpoint_failed', err },
        'write-ahead log checkpoint failed',
      ),
    );
  }

  /**
   * Compacts: at a cut between two groups, captures the cache and the incoming ids and starts
   * a new segment; then writes the snapshot (atomically, with the cut) and deletes the
   * segments it covers. A crash at any point leaves snapshot + segments that replay to the
   * same state.
   */
  checkpoint(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#checkpointing ??= this.#checkpoint().finally(() => (this.#checkpointing = undefined));
    return this.#checkpointing;
  }

  async #checkpoint(): Promise<void> {
    const log = this.#log;
    if (log === undefined) return;
    let readings: unknown[] = [];
    let cp: Checkpoint = { from: this.#segment, incoming: [] };
    await log.barrier(async (swap) => {
      const others = await this.#cutHook?.();
      readings = [...this.#deps.cache.values()];
      cp = {
        from: this.#segment,
        incoming: this.#serializeIncoming(others),
        sessions: this.sessions.toJSON(),
      };
      if (log.size === 0) return;
      const next = this.#segment + 1;
      const fd = await this.#createSegment(next);
      const old = swap(fd, 0);
      this.#segment = next;
      cp.from = next;
      await closeFd(old);
    });
    await this.#deps.snapshots.save(readings as never, this.#deps.now(), cp);
    await this.#removeSegmentsBelow(cp.from);
  }

  #serializeIncoming(others?: Map<string, Map<number, string>>): Checkpoint['incoming'] {
    const all = new Map(this.incoming);
    // A client's ids are in one place at a time: here (parked) or with the worker serving it.
    for (const [c, ids] of others ?? []) if (ids.size > 0) all.set(c, ids);
    return [...all].map(([c, ids]) => [c, [...ids]]);
  }

  async #createSegment(n: number): Promise<number> {
    const fd = await openFd(join(this.#opts.dir, segName(n)), 'w');
    await fsyncDir(this.#opts.dir);
    return fd;
  }

  async #segments(): Promise<number[]> {
    const names = await readdir(this.#opts.dir);
    return names
      .map((n) => SEGMENT.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async #removeSegmentsBelow(from: number): Promise<void> {
    for (const n of await this.#segments()) {
      if (n < from) await rm(join(this.#opts.dir, segName(n)), { force: true });
    }
  }

  async #recover(): Promise<RecoveryReport> {
    const { cache, snapshots, now } = this.#deps;
    await mkdir(this.#opts.dir, { recursive: true, mode: 0o700 });
    const snap = await snapshots.load(now());
    let from = 0;
    const report: RecoveryReport = {
      snapshot: snap.kind,
      segments: 0,
      records: 0,
      readings: 0,
      tornBytes: 0,
      incoming: 0,
    };
    if (snap.kind === 'loaded') {
      cache.restore(snap.readings);
      const cp = parseCheckpoint(snap.wal);
      if (cp !== undefined) {
        from = cp.from;
        for (const [c, ids] of cp.incoming) this.incoming.set(c, new Map(ids));
        const sessions = parseSessionSnapshot(cp.sessions);
        if (sessions !== undefined) this.sessions.restore(sessions);
      }
    } else if (snap.kind === 'corrupt') {
      report.snapshotProblem = { reason: snap.reason, movedTo: snap.movedTo };
    }
    const segs = await this.#segments();
    const intern = interner();
    for (const n of segs) {
      if (n < from) continue;
      const path = join(this.#opts.dir, segName(n));
      const buf = await readFile(path);
      const { payloads, validBytes } = decodeFrames(buf);
      report.segments++;
      for (const p of payloads) {
        for (const rec of decodeFramePayload(p) ?? []) {
          report.records++;
          if (this.#applyReplay(rec, intern))
            report.readings += rec.t === 'p' ? (rec.r?.length ?? 0) : 0;
        }
      }
      if (validBytes < buf.length) {
        report.tornBytes += buf.length - validBytes;
        await truncate(path, validBytes);
      }
    }
    report.incoming = this.inflightIncoming;
    this.#segment = Math.max(from, (segs.at(-1) ?? -1) + 1);
    const fd = await this.#createSegment(this.#segment);
    this.#log = new GroupCommitLog(fd, 0, {
      ops: this.#deps.ops ?? nodeLogFileOps,
      ...(this.#deps.onSync ? { onSync: this.#deps.onSync } : {}),
      ...(this.#deps.onError ? { onError: this.#deps.onError } : {}),
    });
    // Compact right away: the replayed state becomes the snapshot, the old segments go.
    await this.checkpoint();
    await this.#removeSegmentsBelow(this.#segment);
    return report;
  }

  /**
   * Stops using the log as a crash would: no further record, no checkpoint (what the log holds
   * is replayed at the next start). For a failure that leaves the in-memory state incomplete.
   */
  abandon(): void {
    this.#closed = true;
  }

  /** Waits for in-flight groups, writes a final checkpoint and closes the segment. */
  async close(): Promise<void> {
    if (this.#closed || this.#log === undefined) return;
    await this.#log.drain();
    await this.checkpoint();
    this.#closed = true;
    await this.#log.barrier(async (swap) => {
      const fd = swap(-1, 0);
      await closeFd(fd);
    });
  }
}
