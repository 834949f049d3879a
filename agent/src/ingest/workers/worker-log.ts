import { ByteWriter } from '../../wal/byte-writer.js';
import { encodeRecordInto, type QueuedMessage, type WalRecord } from '../../wal/records.js';

/**
 * A batch of records a worker hands to the main thread's write-ahead log: the records already
 * encoded (the log's binary format, back to back), how many, and the structured part the main
 * thread applies once they are durable: the subscribers' queue entries a publisher's record
 * carries (records.ts `q`), which the main thread's session store keeps.
 */
export interface LogBatch {
  bytes: Uint8Array;
  count: number;
  queued: { cs: string[]; pk: QueuedMessage }[];
}

/** What the worker's log needs from the main thread. */
export interface WorkerLogSink {
  /** Sends one batch (the buffer is transferred). */
  send(batch: LogBatch): void;
}

interface Entry {
  /** The client whose incoming ids the record changes (p with an id, r, x), if any. */
  c: string | undefined;
  rec: Pick<WalRecord, 't'> & { c?: string; m?: number; topic?: string };
  onCommit: (() => void) | undefined;
  done: (err?: Error) => void;
}

/** A write for a client that this worker no longer serves (it moved to another worker). */
export class ClientMovedError extends Error {
  readonly code = 'EDGEFLOW_CLIENT_MOVED';
  constructor(clientId: string) {
    super(`client ${clientId} is now served by another worker; its retransmission goes there`);
  }
}

/**
 * The write-ahead log as an ingest worker sees it: the same `write`/`append`/`knowsClient`/
 * `incoming` as DurableLog (the durable ingest step and the broker persistence use it alike),
 * but records are encoded here and sent to the main thread in one batch per event-loop turn;
 * the main thread puts them into its group commit and acknowledges each batch after the fsync
 * that covers it, in order. Then, in append order: the committed incoming QoS 2 ids of the
 * clients this worker serves are updated (`incoming`), each record's `onCommit` runs (the
 * readings reach the shared cache), and `done` is called.
 *
 * Clients move between workers (a reconnection may land on another one): `release` stops
 * accepting records for a client and resolves once the ones already sent are settled, so that
 * the log never holds a record of this worker for the client after one of its new worker.
 */
export class WorkerLog {
  /** Committed incoming QoS 2 ids of the clients this worker serves (id -> topic). */
  readonly incoming = new Map<string, Map<number, string>>();
  readonly #sink: WorkerLogSink;
  #writer = new ByteWriter(16 * 1024);
  #count = 0;
  #queued: LogBatch['queued'] = [];
  /** Records sent and not yet acknowledged, oldest first; then the ones of the open batch. */
  readonly #inflight: Entry[] = [];
  #head = 0;
  readonly #pendingByClient = new Map<string, number>();
  readonly #released = new Set<string>();
  readonly #settled = new Map<string, (() => void)[]>();
  #scheduled = false;
  /** Records sent and not yet acknowledged (a new batch waits until they are). */
  #unacked = 0;
  #closed: Error | undefined;

  constructor(sink: WorkerLogSink) {
    this.#sink = sink;
  }

  /** Like DurableLog.append. */
  append(rec: WalRecord, onCommit?: () => void): Promise<void> {
    return new Promise((resolve, reject) =>
      this.write(rec, onCommit, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Like DurableLog.write: `done` after the fsync covering the record (and `onCommit`). */
  write(rec: WalRecord, onCommit: (() => void) | undefined, done: (err?: Error) => void): void {
    if (this.#closed !== undefined) return done(this.#closed);
    const c = rec.t === 'p' || rec.t === 'r' || rec.t === 'x' ? rec.c : undefined;
    if (c !== undefined) {
      if (this.#released.has(c)) return done(new ClientMovedError(c));
      this.#pendingByClient.set(c, (this.#pendingByClient.get(c) ?? 0) + 1);
    }
    encodeRecordInto(this.#writer, rec);
    this.#count++;
    if (rec.t === 'p' && rec.q !== undefined) this.#queued.push(rec.q);
    const summary =
      rec.t === 'p' || rec.t === 'r' || rec.t === 'x'
        ? {
            t: rec.t,
            c,
            m: 'm' in rec ? rec.m : undefined,
            topic: 'topic' in rec ? rec.topic : undefined,
          }
        : { t: rec.t };
    this.#inflight.push({ c, rec: summary as Entry['rec'], onCommit, done });
    this.#schedule();
  }

  /**
   * One batch in flight per worker: while the main thread has not acknowledged the last one,
   * records accumulate and go out together when the acknowledgement comes. They would have
   * waited for the next group commit anyway (the main thread writes one group per fsync), and a
   * postMessage per event-loop turn cost more CPU than the rest of the log together.
   */
  #schedule(): void {
    if (this.#scheduled || this.#unacked > 0) return;
    this.#scheduled = true;
    // setImmediate, like the group commit itself: the packets of one socket read travel several
    // promise hops in aedes before they get here, and should share one batch.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#unacked === 0) this.#flush();
    });
  }

  #flush(): void {
    if (this.#count === 0) return;
    const bytes = new Uint8Array(this.#writer.len);
    bytes.set(this.#writer.buf.subarray(0, this.#writer.len));
    this.#unacked += this.#count;
    this.#sink.send({ bytes, count: this.#count, queued: this.#queued });
    this.#writer.len = 0;
    this.#count = 0;
    this.#queued = [];
  }

  /** The main thread made the next `n` records durable. */
  committed(n: number): void {
    const group = this.#settleBatch(n);
    for (const e of group) {
      this.#applyIncoming(e.rec);
      e.onCommit?.();
    }
    for (const e of group) this.#settle(e);
    for (const e of group) e.done();
  }

  /** The main thread could not make the next `n` records durable (nothing of them applies). */
  failed(n: number, err: Error): void {
    const group = this.#settleBatch(n);
    for (const e of group) this.#settle(e);
    for (const e of group) e.done(err);
  }

  /** The next `n` records came back: taken off the in-flight list; what waited goes out. */
  #settleBatch(n: number): Entry[] {
    const group = this.#take(n);
    this.#unacked = Math.max(0, this.#unacked - n);
    if (this.#unacked === 0) this.#flush();
    return group;
  }

  #take(n: number): Entry[] {
    const group = this.#inflight.slice(this.#head, this.#head + n);
    this.#head += n;
    if (this.#head > 1024 && this.#head * 2 > this.#inflight.length) {
      this.#inflight.splice(0, this.#head);
      this.#head = 0;
    }
    return group;
  }

  #settle(e: Entry): void {
    const c = e.c;
    if (c === undefined) return;
    const left = (this.#pendingByClient.get(c) ?? 1) - 1;
    if (left > 0) {
      this.#pendingByClient.set(c, left);
      return;
    }
    this.#pendingByClient.delete(c);
    const waiters = this.#settled.get(c);
    this.#settled.delete(c);
    for (const w of waiters ?? []) w();
  }

  #applyIncoming(rec: Entry['rec']): void {
    const c = rec.c;
    if (c === undefined) return;
    if (rec.t === 'p' && rec.m !== undefined) {
      let ids = this.incoming.get(c);
      if (ids === undefined) this.incoming.set(c, (ids = new Map<number, string>()));
      ids.set(rec.m, rec.topic ?? '');
    } else if (rec.t === 'r' && rec.m !== undefined) {
      const ids = this.incoming.get(c);
      ids?.delete(rec.m);
      if (ids?.size === 0) this.incoming.delete(c);
    } else if (rec.t === 'x') this.incoming.delete(c);
  }

  /** Whether client `c` has committed or in-progress incoming state here. */
  knowsClient(c: string): boolean {
    return this.incoming.has(c) || (this.#pendingByClient.get(c) ?? 0) > 0;
  }

  /**
   * Stops taking records for client `c` and resolves, once every record already taken for it
   * is settled, with its committed incoming ids (forgotten here).
   */
  async release(c: string): Promise<[number, string][]> {
    this.#released.add(c);
    // Records of the open batch go out with it (and are acknowledged like the rest).
    this.#flush();
    if ((this.#pendingByClient.get(c) ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const list = this.#settled.get(c) ?? [];
        list.push(resolve);
        this.#settled.set(c, list);
      });
    }
    const ids = [...(this.incoming.get(c) ?? [])];
    this.incoming.delete(c);
    return ids;
  }

  /** Client `c` is served here (again), with these committed incoming ids. */
  adopt(c: string, ids: readonly [number, string][]): void {
    this.#released.delete(c);
    if (ids.length > 0) this.incoming.set(c, new Map(ids));
  }

  /** Resolves once every record taken so far is acknowledged or failed. */
  async settled(): Promise<void> {
    this.#flush();
    while (this.#inflight.length - this.#head > 0)
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }

  /** Incoming ids held over all clients served here. */
  get inflightIncoming(): number {
    let n = 0;
    for (const m of this.incoming.values()) n += m.size;
    return n;
  }

  /** Refuses further writes (the agent is stopping); what was sent still completes. */
  close(err = new Error('write-ahead log is closed')): void {
    this.#flush();
    this.#closed = err;
  }

  /** Fails everything not yet acknowledged (the main thread is gone). */
  abort(err: Error): void {
    this.#closed = err;
    const rest = this.#inflight.length - this.#head;
    if (rest > 0) this.failed(rest, err);
  }
}
