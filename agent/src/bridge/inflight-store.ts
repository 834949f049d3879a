import { close, open } from 'node:fs';
import { readFile, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { IPublishPacket, IStore, Packet } from 'mqtt';
import type { Logger } from 'pino';
import { decodeFrames, encodeFrame } from '../wal/frame.js';
import { fsyncDir } from '@edgeflow/core';
import { GroupCommitLog, nodeLogFileOps, type LogFileOps } from '../wal/group-commit-log.js';
import {
  decodeInflightRecord,
  encodeInflightRecord,
  recordKey,
  type InflightRecord,
} from './inflight-record.js';

export const INFLIGHT_FILE = 'inflight.log';

/** Which outbox record an upstream packet id carries. */
export interface InflightKey {
  readonly seg: number;
  readonly idx: number;
}

/** An exchange in flight upstream: its packet id, outbox record and how far it got. */
export interface InflightEntry {
  readonly mid: number;
  readonly key: InflightKey;
  readonly qos: 1 | 2;
  state: 'publish' | 'pubrel';
  /** The PUBLISH as sent (or rebuilt from the outbox after a restart); undefined until known. */
  packet: IPublishPacket | undefined;
}

export interface InflightStoreDeps {
  log: Logger;
  ops?: LogFileOps;
  /** Rewrite the log once it is larger than this (bytes); default 1 MiB. */
  compactBytes?: number;
  /** An exchange completed (PUBACK/PUBCOMP): its outbox record is delivered. */
  onComplete?: (key: InflightKey) => void;
  /** The outbox index saved on disk already covers this record (its "done" mark is moot). */
  covered?: (key: InflightKey) => boolean;
}

const openFd = (path: string, flags: string) =>
  new Promise<number>((res, rej) => open(path, flags, 0o600, (e, fd) => (e ? rej(e) : res(fd))));
const closeFd = (fd: number) =>
  new Promise<void>((res, rej) => close(fd, (e) => (e ? rej(e) : res())));

/**
 * mqtt.js `outgoingStore` that survives a crash, so that QoS 2 is exactly once across agent
 * restarts on a broker that keeps the session. mqtt.js calls `put` before it writes a QoS>0
 * PUBLISH and before a PUBREL, and waits for the callback: the callback runs only after the
 * fdatasync covering the record (group commit). So after any crash the log knows the packet
 * id of every PUBLISH that may have left, and which ones got PUBREC (resend PUBREL
 * [MQTT-4.3.3-2], never the PUBLISH again). `del` (PUBACK/PUBCOMP) appends a "done" mark that
 * survives until the outbox index covers the record, which closes the window between the
 * upstream acknowledgement and the outbox index write.
 *
 * The log is append-only (records of {@link encodeInflightRecord}); it is rewritten (atomic
 * write of the live state) at open and whenever it exceeds `compactBytes`.
 */
export class InflightStore implements IStore {
  readonly #dir: string;
  readonly #deps: InflightStoreDeps;
  /** Live exchanges by packet id, in the order of their first PUBLISH (= outbox order). */
  readonly #live = new Map<number, InflightEntry>();
  /** Completed records whose outbox ack may not be on disk yet. */
  readonly #done = new Map<string, InflightRecord>();
  /** Outbox records about to be published, in publish order (mqtt.js puts them in that order). */
  readonly #expected: { key: InflightKey; qos: 1 | 2 }[] = [];
  #log: GroupCommitLog | undefined;
  #compacting: Promise<void> | undefined;
  #closed = false;
  /** True when no log existed: the broker may hold a session we know nothing about. */
  readonly fresh: boolean;

  private constructor(dir: string, deps: InflightStoreDeps, fresh: boolean) {
    this.#dir = dir;
    this.#deps = deps;
    this.fresh = fresh;
  }

  /** Reads the log (a torn tail is cut off). Call {@link compact} before use. */
  static async open(dir: string, deps: InflightStoreDeps): Promise<InflightStore> {
    const path = join(dir, INFLIGHT_FILE);
    let buf: Buffer | undefined;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const store = new InflightStore(dir, deps, buf === undefined);
    if (buf === undefined) return store;
    const { payloads, validBytes } = decodeFrames(buf);
    for (const p of payloads) {
      const r = decodeInflightRecord(p);
      if (r !== undefined) store.#apply(r);
    }
    if (validBytes < buf.length) await truncate(path, validBytes);
    deps.log.info(
      { event: 'bridge.inflight_opened', live: store.#live.size, torn: buf.length - validBytes },
      'upstream in-flight log opened',
    );
    return store;
  }

  #apply(r: InflightRecord): void {
    const cur = this.#live.get(r.mid);
    if (r.op === 'done') {
      this.#done.set(recordKey(r.seg, r.idx), r);
      // A "done" applies only to the record it names: the id may have been reused since.
      if (cur !== undefined && cur.key.seg === r.seg && cur.key.idx === r.idx)
        this.#live.delete(r.mid);
      return;
    }
    if (cur !== undefined && cur.key.seg === r.seg && cur.key.idx === r.idx) cur.state = r.op;
    else {
      if (cur !== undefined) this.#live.delete(r.mid);
      this.#live.set(r.mid, {
        mid: r.mid,
        key: { seg: r.seg, idx: r.idx },
        qos: r.qos,
        state: r.op,
        packet: undefined,
      });
    }
  }

  /** Live exchanges, oldest first. */
  get live(): readonly InflightEntry[] {
    return [...this.#live.values()];
  }

  /** The log says this outbox record was acknowledged upstream. */
  completed(key: InflightKey): boolean {
    return this.#done.has(recordKey(key.seg, key.idx));
  }

  /** Forgets an exchange (its PUBLISH was acknowledged, the outbox no longer has it). */
  forget(mid: number): void {
    this.#live.delete(mid);
  }

  /** The next QoS>0 PUBLISH mqtt.js stores is this outbox record. */
  expect(key: InflightKey, qos: 1 | 2): void {
    this.#expected.push({ key, qos });
  }

  /** A publish mqtt.js will never store (it failed before): keep the expectations aligned. */
  unexpect(key: InflightKey): void {
    const i = this.#expected.findIndex((x) => x.key === key);
    if (i >= 0) this.#expected.splice(i, 1);
  }

  /**
   * The broker lost our session (CONNACK session present = 0): every live exchange is sent
   * again as a PUBLISH (at least once: a PUBREL would complete a message it no longer has).
   * Returns how many.
   */
  restartAsNew(): number {
    let n = 0;
    for (const e of [...this.#live.values()]) {
      if (e.packet === undefined) {
        // Its outbox record is gone: it was delivered before (only the "done" mark was lost).
        this.#live.delete(e.mid);
        continue;
      }
      n++;
      if (e.state === 'pubrel') {
        e.state = 'publish';
        void this.#append({ op: 'publish', qos: e.qos, mid: e.mid, ...e.key });
      }
      e.packet = { ...e.packet, dup: false };
    }
    return n;
  }

  put(packet: Packet, cb: (err?: Error) => void): this {
    if (packet.cmd !== 'publish' && packet.cmd !== 'pubrel') {
      cb(new Error(`inflight store: unexpected ${packet.cmd}`));
      return this;
    }
    const mid = packet.messageId ?? 0;
    let e = this.#live.get(mid);
    if (packet.cmd === 'publish') {
      // mqtt.js stores each new PUBLISH once, in publish order (resends are not stored again).
      const next = this.#expected.shift();
      if (next === undefined) {
        cb(new Error(`inflight store: PUBLISH ${mid} not announced by the bridge`));
        return this;
      }
      e = { mid, key: next.key, qos: next.qos, state: 'publish', packet };
      this.#live.delete(mid);
      this.#live.set(mid, e);
    } else {
      if (e === undefined) {
        cb(new Error(`inflight store: PUBREL ${mid} for no PUBLISH`));
        return this;
      }
      e.state = 'pubrel';
    }
    this.#append({ op: e.state, qos: e.qos, mid, ...e.key }).then(() => cb(), cb);
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: (err?: Error, packet?: Packet) => void): this {
    const p = this.#packetOf(this.#live.get(packet.messageId ?? 0));
    if (p === undefined) cb(new Error('missing packet'));
    else cb(undefined, p);
    return this;
  }

  del(packet: Pick<Packet, 'messageId'>, cb: (err?: Error, packet?: Packet) => void): this {
    const mid = packet.messageId ?? 0;
    const e = this.#live.get(mid);
    if (e === undefined) {
      cb(new Error('missing packet'));
      return this;
    }
    this.#live.delete(mid);
    const r: InflightRecord = { op: 'done', qos: e.qos, mid, ...e.key };
    this.#done.set(recordKey(r.seg, r.idx), r);
    // Not waited for: losing it costs a PUBREL (answered by PUBCOMP) or, QoS 1, a resend.
    this.#append(r).catch(() => undefined);
    this.#deps.onComplete?.(e.key);
    cb(undefined, this.#packetOf(e));
    return this;
  }

  /**
   * What mqtt.js resends on connect, oldest first. Waits for pending appends first: a PUBLISH
   * restored by {@link restartAsNew} must be on disk as such before it leaves.
   */
  createStream(): ReturnType<IStore['createStream']> {
    const packets = async function* (self: InflightStore) {
      await self.#log?.drain();
      for (const e of [...self.#live.values()]) {
        const p = self.#packetOf(e);
        if (p !== undefined && self.#live.get(e.mid) === e) yield p;
      }
    };
    return Readable.from(packets(this), { objectMode: true }) as unknown as ReturnType<
      IStore['createStream']
    >;
  }

  #packetOf(e: InflightEntry | undefined): Packet | undefined {
    if (e === undefined) return undefined;
    // [MQTT-4.3.3-2]: after PUBREC only PUBREL is sent again for this id.
    if (e.state === 'pubrel') return { cmd: 'pubrel', messageId: e.mid };
    // [MQTT-3.3.1-1]: a re-delivery carries DUP.
    return e.packet === undefined ? undefined : { ...e.packet, dup: true };
  }

  /** mqtt.js calls this from end(); the bridge closes the file itself ({@link shutdown}). */
  close(cb: () => void): void {
    cb();
  }

  #append(r: InflightRecord): Promise<void> {
    const log = this.#log;
    if (log === undefined || this.#closed)
      return Promise.reject(new Error('upstream in-flight log is closed'));
    return log.append(encodeFrame(encodeInflightRecord(r))).then(() => {
      if (log.size >= (this.#deps.compactBytes ?? 1 << 20)) this.#compactInBackground();
    });
  }

  #compactInBackground(): void {
    if (this.#compacting !== undefined || this.#closed) return;
    this.#compacting = this.compact()
      .catch((err: unknown) =>
        this.#deps.log.error(
          { event: 'bridge.inflight_compact_failed', err },
          'upstream in-flight log compaction failed',
        ),
      )
      .finally(() => (this.#compacting = undefined));
  }

  /**
   * Replaces the log by the live state (atomic: `.new`, fsync, rename, directory fsync),
   * between two group commits. State changed by appends still queued is written twice, which
   * replay tolerates (records are idempotent and a "done" names its record).
   */
  async compact(): Promise<void> {
    const covered = this.#deps.covered ?? (() => false);
    const build = async (): Promise<{ fd: number; size: number }> => {
      for (const [k, r] of this.#done) if (covered(r)) this.#done.delete(k);
      const frames: Buffer[] = [];
      for (const e of this.#live.values())
        frames.push(
          encodeFrame(encodeInflightRecord({ op: e.state, qos: e.qos, mid: e.mid, ...e.key })),
        );
      for (const r of this.#done.values()) frames.push(encodeFrame(encodeInflightRecord(r)));
      const data = Buffer.concat(frames);
      const path = join(this.#dir, INFLIGHT_FILE);
      const fd = await openFd(`${path}.new`, 'w');
      const ops = this.#deps.ops ?? nodeLogFileOps;
      if (data.length > 0 && (await ops.writev(fd, [data], 0)) !== data.length)
        throw new Error('short write of the upstream in-flight log (disk full?)');
      await ops.fdatasync(fd);
      await rename(`${path}.new`, path);
      await fsyncDir(this.#dir);
      return { fd, size: data.length };
    };
    const log = this.#log;
    if (log === undefined) {
      const { fd, size } = await build();
      this.#log = new GroupCommitLog(fd, size, { ops: this.#deps.ops ?? nodeLogFileOps });
      return;
    }
    await log.barrier(async (swap) => {
      const { fd, size } = await build();
      await closeFd(swap(fd, size));
    });
  }

  /** Waits for pending appends, then closes the file. */
  async shutdown(): Promise<void> {
    const log = this.#log;
    if (this.#closed || log === undefined) return;
    await log.drain();
    await this.#compacting;
    this.#closed = true;
    await log.barrier(async (swap) => closeFd(swap(-1, 0)));
  }
}
