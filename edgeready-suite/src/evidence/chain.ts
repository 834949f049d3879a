// The run's evidence log: one JSON record per line, each hashed together with the hash of the
// line before it, so that a record cannot be changed, dropped or reordered without breaking
// every hash after it. TPM quotes over the head of this chain (anchors.ts) then date it.
import { createHash } from 'node:crypto';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { EdgeReadyError } from '../errors.js';
import type { EvidenceRecord } from './records.js';

/** Hash that precedes the first record. */
export const GENESIS = '0'.repeat(64);

// Line layout: {"h":"<64 hex>","r":<record JSON>}. The hash covers the exact bytes of the
// record JSON, so verification needs no canonical JSON form.
const HEAD = '{"h":"';
const MID = '","r":';
const R_AT = HEAD.length + 64 + MID.length;

/** sha256(prev hex, "\n", record JSON bytes), hex. */
export function linkHash(prev: string, recordJson: string): string {
  return createHash('sha256').update(prev).update('\n').update(recordJson).digest('hex');
}

/** One verified entry of a chain. */
export interface ChainEntry {
  readonly index: number;
  /** Hash of the entry before it (GENESIS for the first). */
  readonly prev: string;
  readonly hash: string;
  readonly record: EvidenceRecord;
}

/** Result of reading a chain: its entries, and the first problem if it does not verify. */
export interface ParsedChain {
  readonly entries: ChainEntry[];
  readonly head: string;
  /** Bytes of complete lines (a torn last line is not counted). */
  readonly bytes: number;
  readonly torn: boolean;
  readonly error?: string;
}

/** Parses and verifies chain text; stops at the first broken link. */
export function parseChain(text: string): ParsedChain {
  const entries: ChainEntry[] = [];
  let prev = GENESIS;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0)
      return { entries, head: prev, bytes: Buffer.byteLength(text.slice(0, pos)), torn: true };
    const line = text.slice(pos, nl);
    const index = entries.length;
    const bad = (why: string): ParsedChain => ({
      entries,
      head: prev,
      bytes: Buffer.byteLength(text.slice(0, pos)),
      torn: false,
      error: `evidence line ${index + 1}: ${why}`,
    });
    if (!line.startsWith(HEAD) || line.slice(HEAD.length + 64, R_AT) !== MID || !line.endsWith('}'))
      return bad('not an evidence record');
    const hash = line.slice(HEAD.length, HEAD.length + 64);
    const json = line.slice(R_AT, -1);
    if (linkHash(prev, json) !== hash)
      return bad('hash does not match (the record or one before it was changed)');
    let record: EvidenceRecord;
    try {
      record = JSON.parse(json) as EvidenceRecord;
    } catch {
      return bad('record is not JSON');
    }
    entries.push({ index, prev, hash, record });
    prev = hash;
    pos = nl + 1;
  }
  return { entries, head: prev, bytes: Buffer.byteLength(text), torn: false };
}

/**
 * The append side of a chain file. Each append is written and fdatasync'ed before it returns:
 * a record the run acted on is on disk, and a crash leaves at most a torn last line, which
 * {@link EvidenceLog.open} cuts off.
 */
export class EvidenceLog {
  #fh: FileHandle | undefined;
  #head: string;
  #count: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    fh: FileHandle,
    head: string,
    count: number,
  ) {
    this.#fh = fh;
    this.#head = head;
    this.#count = count;
  }

  /** Opens (or creates) a chain file, verifying what is there; returns the log and its entries. */
  static async open(path: string): Promise<{ log: EvidenceLog; entries: ChainEntry[] }> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const parsed = parseChain(text);
    if (parsed.error)
      throw new EdgeReadyError(
        'EDGEFLOW_ER_CHECKPOINT_CORRUPT',
        `${path}: ${parsed.error}; the run cannot be resumed`,
      );
    if (parsed.torn) await truncate(path, parsed.bytes);
    const fh = await open(path, 'a');
    return {
      log: new EvidenceLog(path, fh, parsed.head, parsed.entries.length),
      entries: parsed.entries,
    };
  }

  /** Hash of the last record (what an anchor quotes). */
  get head(): string {
    return this.#head;
  }

  get count(): number {
    return this.#count;
  }

  /** Appends one record; appends are serialised in call order. */
  append(record: EvidenceRecord): Promise<ChainEntry> {
    const run = async (): Promise<ChainEntry> => {
      const fh = this.#fh;
      if (!fh) throw new Error('evidence log is closed');
      const json = JSON.stringify(record);
      const prev = this.#head;
      const hash = linkHash(prev, json);
      try {
        await fh.write(`${HEAD}${hash}${MID}${json}}\n`);
        await fh.datasync();
      } catch (e) {
        // A half-written line must not get records appended after it: the log stops here
        // (a resume cuts the torn line and continues from the last complete record).
        this.#fh = undefined;
        await fh.close().catch(() => undefined);
        throw e;
      }
      this.#head = hash;
      const entry = { index: this.#count, prev, hash, record };
      this.#count++;
      return entry;
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
