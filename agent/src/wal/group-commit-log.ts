import { fdatasync, ftruncate, writev } from 'node:fs';
import { ByteWriter } from './byte-writer.js';
import { FRAME_HEADER, sealFrame } from './frame.js';
import { BATCH_V1 } from './records.js';

/** The file operations the log needs; injected so that tests can simulate a full disk. */
export interface LogFileOps {
  writev(fd: number, bufs: Buffer[], position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, len: number): Promise<void>;
}

export const nodeLogFileOps: LogFileOps = {
  writev: (fd, bufs, position) =>
    new Promise((resolve, reject) =>
      writev(fd, bufs, position, (err, n) => (err ? reject(err) : resolve(n))),
    ),
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  ftruncate: (fd, len) =>
    new Promise((resolve, reject) => ftruncate(fd, len, (err) => (err ? reject(err) : resolve()))),
};

interface Entry {
  onCommit: (() => void) | undefined;
  done: (err?: Error) => void;
}

/** A batch frame is sealed at this size and a new one started (frames stay far below MAX_RECORD). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Above this many buffers, one writev would exceed IOV_MAX (1024) and write short: concatenate. */
const MAX_IOV = 512;

export interface GroupCommitDeps {
  ops: LogFileOps;
  /** Called with the duration of every write+fdatasync, in seconds. */
  onSync?: (seconds: number, records: number) => void;
  /** Called when a group failed (the records are not acknowledged). */
  onError?: (err: Error) => void;
  hrtime?: () => bigint;
}

/**
 * An append-only file with group commit: records appended while a write+fdatasync is in
 * progress are written together by the next one, so one fsync covers every message that
 * arrived meanwhile. A record's `onCommit` runs (in append order) and its promise resolves
 * only after the fdatasync covering it returned.
 *
 * On a failed write or fdatasync (ENOSPC, EIO) the file is truncated back to the last
 * committed size and every record of the group is rejected: none of them was acknowledged,
 * so none may reappear on replay. If the truncate fails too, the log refuses all further
 * appends (it cannot know what is on disk).
 */
export class GroupCommitLog {
  #fd: number;
  #size: number;
  #queue: Entry[] = [];
  /** Sealed frames of the next group, in append order. */
  #bufs: Buffer[] = [];
  /** The batch frame being filled by appendRecord (header + BATCH_V1 reserved). */
  #batch: ByteWriter | undefined;
  /** A batch buffer kept for reuse once its group is on disk (saves an allocation per group). */
  #spare: ByteWriter | undefined;
  #flushing = false;
  #scheduled = false;
  #broken: Error | undefined;
  #barriers: (() => void)[] = [];
  readonly #deps: GroupCommitDeps;
  readonly #hrtime: () => bigint;

  constructor(fd: number, size: number, deps: GroupCommitDeps) {
    this.#fd = fd;
    this.#size = size;
    this.#deps = deps;
    this.#hrtime = deps.hrtime ?? (() => process.hrtime.bigint());
  }

  /** Committed bytes in the current file. */
  get size(): number {
    return this.#size;
  }

  /** Records waiting for (or in) the next group. */
  get pending(): number {
    return this.#queue.length;
  }

  append(frame: Buffer, onCommit?: () => void): Promise<void> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    return new Promise<void>((resolve, reject) => {
      this.#sealBatch();
      this.#bufs.push(frame);
      this.#queue.push({ onCommit, done: (err) => (err ? reject(err) : resolve()) });
      this.#schedule();
    });
  }

  /**
   * The hot path: `encode` appends one record to the group's batch frame (one frame, one CRC
   * per group instead of per record); `done` is called after the fdatasync covering it (no
   * error) or when the group failed. A torn batch is dropped whole on replay, which is right:
   * none of its records was acknowledged.
   */
  appendRecord(
    encode: (w: ByteWriter) => void,
    onCommit: (() => void) | undefined,
    done: (err?: Error) => void,
  ): void {
    if (this.#broken !== undefined) {
      done(this.#broken);
      return;
    }
    let w = this.#batch;
    if (w === undefined) {
      w = this.#spare ?? new ByteWriter();
      this.#spare = undefined;
      w.len = FRAME_HEADER;
      w.u8(BATCH_V1);
      this.#batch = w;
    }
    encode(w);
    this.#queue.push({ onCommit, done });
    if (w.len >= MAX_BATCH_BYTES) this.#sealBatch();
    this.#schedule();
  }

  #sealBatch(): void {
    const w = this.#batch;
    if (w === undefined) return;
    this.#batch = undefined;
    this.#bufs.push(sealFrame(w.buf, w.len));
  }

  /**
   * Runs `fn` between groups: no write is in progress and none starts until `fn` resolves
   * (appends queue up meanwhile). Used to switch files at a consistent cut.
   */
  async barrier<T>(fn: (swap: (fd: number, size: number) => number) => Promise<T>): Promise<T> {
    while (this.#flushing) await new Promise<void>((r) => this.#barriers.push(r));
    this.#flushing = true;
    try {
      return await fn((fd, size) => {
        const old = this.#fd;
        this.#fd = fd;
        this.#size = size;
        return old;
      });
    } finally {
      this.#flushing = false;
      this.#wake();
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: a socket chunk's packets go through several promise hops
    // in aedes before they reach us, and should all land in the same group.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  #wake(): void {
    const b = this.#barriers.shift();
    if (b !== undefined) b();
    else if (this.#queue.length > 0) this.#schedule();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#queue.length === 0) return;
    this.#flushing = true;
    const group = this.#queue;
    this.#queue = [];
    const batch = this.#batch;
    this.#sealBatch();
    let bufs = this.#bufs;
    this.#bufs = [];
    if (bufs.length > MAX_IOV) bufs = [Buffer.concat(bufs)];
    let bytes = 0;
    for (const b of bufs) bytes += b.length;
    const started = this.#hrtime();
    try {
      const written = await this.#deps.ops.writev(this.#fd, bufs, this.#size);
      if (written !== bytes) {
        throw Object.assign(new Error(`short write: ${written} of ${bytes} bytes (disk full?)`), {
          code: 'ENOSPC',
        });
      }
      await this.#deps.ops.fdatasync(this.#fd);
      this.#size += bytes;
      this.#deps.onSync?.(Number(this.#hrtime() - started) / 1e9, group.length);
      for (const e of group) e.onCommit?.();
      for (const e of group) e.done();
    } catch (err) {
      await this.#fail(err as Error, group);
    } finally {
      // The group is written (or failed): its batch buffer may be filled again.
      if (batch !== undefined && batch.buf.length <= 1024 * 1024) this.#spare = batch;
      this.#flushing = false;
      this.#wake();
    }
  }

  async #fail(err: Error, group: Entry[]): Promise<void> {
    this.#deps.onError?.(err);
    try {
      await this.#deps.ops.ftruncate(this.#fd, this.#size);
    } catch (truncErr) {
      this.#broken = new Error(
        `write-ahead log unusable: truncate after "${err.message}" failed: ${(truncErr as Error).message}`,
        { cause: truncErr },
      );
    }
    for (const e of group) e.done(err);
  }

  /** Resolves once everything appended so far is committed or failed. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}
