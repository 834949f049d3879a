// A map with the SharedShardedMap surface the self-test uses, but no seqlock and no locks: a
// write stores its fields one by one (calling the critical-section hook halfway), and a read
// returns whatever is there. The negative test of the self-test: its probe must catch this
// map every time, not by luck.
import type { RecordLayout, SharedShardedMapDeps } from '@edgeflow/sharded-map';

const SLOTS = 2048;

function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h & 0x7fffffff) | 1; // positive; 0 marks an empty slot
}

export class SharedShardedMap {
  readonly buffer: SharedArrayBuffer;
  readonly #fields: string[];
  readonly #tags: Int32Array;
  readonly #data: Float64Array;
  readonly #hook: SharedShardedMapDeps['inCriticalSection'];

  constructor(
    o: { record: RecordLayout },
    deps: SharedShardedMapDeps = {},
    buffer?: SharedArrayBuffer,
  ) {
    this.#fields = Object.keys(o.record);
    this.buffer = buffer ?? new SharedArrayBuffer(SLOTS * 4 + SLOTS * this.#fields.length * 8);
    this.#tags = new Int32Array(this.buffer, 0, SLOTS);
    this.#data = new Float64Array(this.buffer, SLOTS * 4);
    this.#hook = deps.inCriticalSection;
  }

  static attach(
    buffer: SharedArrayBuffer,
    expect: { record: RecordLayout },
    deps: SharedShardedMapDeps = {},
  ): SharedShardedMap {
    return new SharedShardedMap(expect, deps, buffer);
  }

  #slot(key: string, create: boolean): number {
    const h = hash(key);
    for (let i = 0; i < SLOTS; i++) {
      const s = (h + i) % SLOTS;
      const t = Atomics.load(this.#tags, s);
      if (t === h) return s;
      if (t === 0)
        return create && Atomics.compareExchange(this.#tags, s, 0, h) === 0
          ? s
          : create
            ? this.#slot(key, true)
            : -1;
    }
    throw new Error('broken map full');
  }

  get(key: string, out: Record<string, number>): boolean {
    const s = this.#slot(key, false);
    if (s < 0) return false;
    this.#fields.forEach((f, j) => (out[f] = this.#data[s * this.#fields.length + j] ?? 0));
    return true;
  }

  set(key: string, rec: Record<string, number>): this {
    const s = this.#slot(key, true);
    const half = Math.ceil(this.#fields.length / 2);
    this.#fields.forEach((f, j) => {
      if (j === half) this.#hook?.('mid-write');
      this.#data[s * this.#fields.length + j] = rec[f] ?? 0;
    });
    this.#hook?.('end-write');
    return this;
  }

  compareAndSet(
    key: string,
    expected: Record<string, number> | undefined,
    next: Record<string, number>,
  ): boolean {
    const cur: Record<string, number> = {};
    const present = this.get(key, cur);
    if (present !== (expected !== undefined)) return false;
    if (expected && this.#fields.some((f) => cur[f] !== expected[f])) return false;
    this.set(key, next);
    return true;
  }

  delete(key: string): boolean {
    return this.#slot(key, false) >= 0;
  }

  counters(): { readRetries: number } {
    return { readRetries: 0 };
  }

  releaseThread(): number {
    return 0;
  }

  close(): void {}
}
