import { close, open } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeFrames, encodeFrame } from '../wal/frame.js';
import { atomicWriteFile, fsyncDir } from '@edgeflow/core';
import { GroupCommitLog, nodeLogFileOps, type LogFileOps } from '../wal/group-commit-log.js';
import { decodeOutboxRecord, encodeOutboxRecord, type OutboxMessage } from './outbox-record.js';

export type OutboxFullPolicy = 'block' | 'drop-oldest';

export interface OutboxOptions {
  /** `<dataDir>/outbox` */
  dir: string;
  /** Bound on the bytes of undelivered records (framed), see {@link Outbox}. */
  maxBytes: number;
  /** A new segment file starts once the current one reaches this size. */
  segmentBytes: number;
  whenFull: OutboxFullPolicy;
}

export interface OutboxDeps {
  log: Logger;
  now: () => number;
  ops?: LogFileOps;
  /** A record was dropped: `too_large` (bigger than maxBytes) or `full` (drop-oldest). */
  onDrop?: (reason: 'full' | 'too_large') => void;
}

/** An undelivered record, in order. */
export interface OutboxEntry extends OutboxMessage {
  readonly seg: number;
  /** Index of the record within its segment. */
  readonly idx: number;
  readonly bytes: number;
  acked: boolean;
}

interface Waiter {
  msg: OutboxMessage;
  frame: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Cursor {
  seg: number;
  idx: number;
}

const SEGMENT = /^(\d{10})\.seg$/;
const segName = (n: number) => `${String(n).padStart(10, '0')}.seg`;
const INDEX = 'index.json';

const openFd = (path: string) =>
  new Promise<number>((res, rej) => open(path, 'w', 0o600, (e, fd) => (e ? rej(e) : res(fd))));
const closeFd = (fd: number) =>
  new Promise<void>((res, rej) => close(fd, (e) => (e ? rej(e) : res())));

/**
 * The upstream bridge's store-and-forward queue on disk: append-only segment files of framed
 * records (group commit: one write + fdatasync covers every record that arrived meanwhile) and
 * an index (`index.json`, written atomically) naming the first undelivered record.
 *
 * - `append` resolves once the record is on disk.
 * - Undelivered records are bounded by `maxBytes`. When an append would exceed it:
 *   `block` (default) makes the append wait, in order, until deliveries free space (the
 *   caller holds the MQTT acknowledgement, so publishers are slowed down, nothing is lost);
 *   `drop-oldest` drops the oldest undelivered records (counted) to make room.
 * - `ack` marks a record delivered; the index moves over the delivered prefix and is saved
 *   in the background (one atomic write at a time, batching whatever was acked meanwhile);
 *   fully delivered segments are then deleted. After a crash, records acked after the last
 *   saved index are sent again (at least once).
 *
 * Undelivered records are also kept in memory (bounded by the same `maxBytes`).
 */
export class Outbox {
  readonly #opts: OutboxOptions;
  readonly #deps: OutboxDeps;
  readonly #entries: OutboxEntry[] = [];
  #head = 0;
  #sent = 0;
  #backlogBytes = 0;
  #reserved = 0;
  #waiters: Waiter[] = [];
  #log: GroupCommitLog | undefined;
  #seg = 0;
  #segCount = 0;
  #saved: Cursor = { seg: 0, idx: 0 };
  #saving: Promise<void> | undefined;
  #dirty = false;
  #rolling: Promise<void> | undefined;
  #closed = false;
  /** Called after records were committed (so the sender can pump). */
  onAppend: (() => void) | undefined;

  private constructor(opts: OutboxOptions, deps: OutboxDeps) {
    this.#opts = opts;
    this.#deps = deps;
  }

  static async open(opts: OutboxOptions, deps: OutboxDeps): Promise<Outbox> {
    const o = new Outbox(opts, deps);
    await o.#recover();
    return o;
  }

  get backlogMessages(): number {
    return this.#entries.length - this.#head;
  }
  get backlogBytes(): number {
    return this.#backlogBytes;
  }
  /** Enqueue time of the oldest undelivered record, or undefined when empty. */
  get oldestAt(): number | undefined {
    return this.#entries[this.#head]?.at;
  }

  /** The undelivered records, oldest first (a snapshot). */
  undelivered(): OutboxEntry[] {
    return this.#entries.slice(this.#head).filter((e) => !e.acked);
  }

  /** True when the index on disk already says this record was delivered. */
  isSavedAsDelivered(key: { seg: number; idx: number }): boolean {
    const s = this.#saved;
    return key.seg < s.seg || (key.seg === s.seg && key.idx < s.idx);
  }

  /** Resolves once the index on disk reflects every ack made so far. */
  async flushIndex(): Promise<void> {
    while (this.#saving !== undefined) await this.#saving;
  }

  /** The next record not yet handed to the sender (in order), or undefined. */
  takeNext(): OutboxEntry | undefined {
    if (this.#sent < this.#head) this.#sent = this.#head;
    const e = this.#entries[this.#sent];
    if (e !== undefined) this.#sent++;
    return e;
  }

  append(topic: string, payload: Buffer): Promise<void> {
    if (this.#closed || this.#log === undefined)
      return Promise.reject(new Error('outbox is closed'));
    const msg: OutboxMessage = { topic, payload, at: this.#deps.now() };
    const frame = encodeFrame(encodeOutboxRecord(msg));
    if (frame.length > this.#opts.maxBytes) {
      this.#deps.onDrop?.('too_large');
      return Promise.resolve();
    }
    if (this.#opts.whenFull === 'drop-oldest') this.#dropFor(frame.length);
    else if (this.#waiters.length > 0 || !this.#fits(frame.length)) {
      // Blocked appends keep their order: each is written when the ones before it were.
      return new Promise<void>((resolve, reject) =>
        this.#waiters.push({ msg, frame, resolve, reject }),
      );
    }
    return this.#write(msg, frame);
  }

  #fits(bytes: number): boolean {
    return this.#backlogBytes + this.#reserved + bytes <= this.#opts.maxBytes;
  }

  #write(msg: OutboxMessage, frame: Buffer): Promise<void> {
    const log = this.#log;
    if (log === undefined || this.#closed) return Promise.reject(new Error('outbox is closed'));
    this.#reserved += frame.length;
    const p = log.append(frame, () => {
      // Runs right after the fsync of the group, on the segment the group was written to.
      this.#reserved -= frame.length;
      this.#backlogBytes += frame.length;
      this.#entries.push({
        ...msg,
        seg: this.#seg,
        idx: this.#segCount++,
        bytes: frame.length,
        acked: false,
      });
    });
    return p.then(
      () => {
        this.onAppend?.();
        if (log.size >= this.#opts.segmentBytes) this.#roll();
      },
      (err: Error) => {
        this.#reserved -= frame.length;
        throw err;
      },
    );
  }

  /** drop-oldest: makes room for `bytes` by dropping undelivered records from the head. */
  #dropFor(bytes: number): void {
    while (!this.#fits(bytes) && this.#head < this.#entries.length) {
      const e = this.#entries[this.#head++] as OutboxEntry;
      this.#backlogBytes -= e.bytes;
      this.#deps.onDrop?.('full');
    }
    this.#advance();
  }

  /** Marks a record delivered (acknowledged upstream). */
  ack(e: OutboxEntry): void {
    e.acked = true;
    this.#advance();
  }

  #advance(): void {
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as OutboxEntry).acked) {
      this.#backlogBytes -= (this.#entries[this.#head] as OutboxEntry).bytes;
      this.#head++;
    }
    // Compact the array now and then (shift() per message would be O(n)).
    if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#sent = Math.max(0, this.#sent - this.#head);
      this.#head = 0;
    }
    const c = this.#cursor();
    if (c.seg !== this.#saved.seg || c.idx !== this.#saved.idx) {
      this.#dirty = true;
      this.#saveInBackground();
    }
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    for (;;) {
      const w = this.#waiters[0];
      if (w === undefined) return;
      // A record larger than the free space still goes once everything before it is delivered.
      if (!this.#fits(w.frame.length) && this.backlogMessages + this.#reserved > 0) return;
      this.#waiters.shift();
      this.#write(w.msg, w.frame).then(w.resolve, w.reject);
    }
  }

  /** The first undelivered record (or the end of what was written). */
  #cursor(): Cursor {
    const e = this.#entries[this.#head];
    return e !== undefined ? { seg: e.seg, idx: e.idx } : { seg: this.#seg, idx: this.#segCount };
  }

  #saveInBackground(): void {
    if (this.#saving !== undefined) return;
    this.#saving = this.#saveLoop()
      .catch((err: unknown) =>
        this.#deps.log.error(
          { event: 'bridge.outbox_index_failed', err },
          'outbox index write failed',
        ),
      )
      .finally(() => (this.#saving = undefined));
  }

  async #saveLoop(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      const c = this.#cursor();
      await atomicWriteFile(join(this.#opts.dir, INDEX), JSON.stringify(c), { createDir: true });
      const old = this.#saved.seg;
      this.#saved = c;
      if (c.seg > old) await this.#removeSegmentsBelow(c.seg);
    }
  }

  #roll(): void {
    if (this.#rolling !== undefined || this.#closed) return;
    const log = this.#log;
    if (log === undefined) return;
    this.#rolling = log
      .barrier(async (swap) => {
        const next = this.#seg + 1;
        const fd = await openFd(join(this.#opts.dir, segName(next)));
        await fsyncDir(this.#opts.dir);
        const old = swap(fd, 0);
        this.#seg = next;
        this.#segCount = 0;
        await closeFd(old);
      })
      .catch((err: unknown) =>
        this.#deps.log.error(
          { event: 'bridge.outbox_roll_failed', err },
          'outbox segment roll failed',
        ),
      )
      .finally(() => (this.#rolling = undefined));
  }

  async #segments(): Promise<number[]> {
    return (await readdir(this.#opts.dir))
      .map((n) => SEGMENT.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async #removeSegmentsBelow(seg: number): Promise<void> {
    for (const n of await this.#segments()) {
      if (n < seg && n !== this.#seg) await rm(join(this.#opts.dir, segName(n)), { force: true });
    }
  }

  async #readIndex(): Promise<Cursor | undefined> {
    const path = join(this.#opts.dir, INDEX);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const c = JSON.parse(text) as Partial<Cursor>;
      if (Number.isInteger(c.seg) && Number.isInteger(c.idx)) return c as Cursor;
    } catch {
      // fall through
    }
    const movedTo = `${path}.${this.#deps.now()}.corrupt`;
    await rename(path, movedTo);
    this.#deps.log.error(
      { event: 'bridge.outbox_index_corrupt', code: 'EDGEFLOW_OUTBOX_CORRUPT', movedTo },
      'outbox index unreadable; moved aside, re-sending from the oldest segment',
    );
    return undefined;
  }

  async #recover(): Promise<void> {
    const dir = this.#opts.dir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const start = (await this.#readIndex()) ?? { seg: 0, idx: 0 };
    const segs = await this.#segments();
    let torn = 0;
    for (const n of segs) {
      if (n < start.seg) continue;
      const path = join(dir, segName(n));
      const buf = await readFile(path);
      const { payloads, validBytes } = decodeFrames(buf);
      payloads.forEach((p, idx) => {
        if (n === start.seg && idx < start.idx) return;
        const m = decodeOutboxRecord(p);
        if (m === undefined) return;
        const bytes = p.length + 8;
        this.#entries.push({ ...m, seg: n, idx, bytes, acked: false });
        this.#backlogBytes += bytes;
      });
      if (validBytes < buf.length) {
        torn += buf.length - validBytes;
        await truncate(path, validBytes);
      }
    }
    this.#seg = Math.max(start.seg, (segs.at(-1) ?? -1) + 1);
    this.#segCount = 0;
    this.#saved = start;
    const fd = await openFd(join(dir, segName(this.#seg)));
    await fsyncDir(dir);
    this.#log = new GroupCommitLog(fd, 0, { ops: this.#deps.ops ?? nodeLogFileOps });
    this.#deps.log.info(
      {
        event: 'bridge.outbox_opened',
        backlog: this.backlogMessages,
        bytes: this.#backlogBytes,
        torn,
      },
      'outbox opened',
    );
    await this.#removeSegmentsBelow(start.seg);
  }

  /** Finishes pending appends and the index write, closes the segment. */
  async close(): Promise<void> {
    if (this.#closed || this.#log === undefined) return;
    const log = this.#log;
    await log.drain();
    await this.#rolling;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error('outbox is closed'));
    this.#dirty = true;
    this.#saveInBackground();
    await this.#saving;
    await log.barrier(async (swap) => closeFd(swap(-1, 0)));
  }
}
