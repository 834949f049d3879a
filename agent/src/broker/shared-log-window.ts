/** The "never logged" mark of a slot's time word (a real clock is never this far back). */
const NEVER = -(2n ** 62n);

/**
 * "At most one line per window" for a fixed set of reasons (slots), kept in a
 * SharedArrayBuffer so that every thread holding the same buffer shares the window: with ingest
 * workers, each thread runs its own broker, and a per-thread window would log once per worker
 * (a client's retries land on whichever worker the kernel picks for each connection).
 *
 * Per slot: the time of the last line (BigInt64, ms) and the number suppressed since (Int32).
 * Atomics are sequentially consistent (ECMA-262 §25.4), so the claim below is a plain
 * compare-and-swap on every architecture, ARM64's weaker memory model included.
 */
export class SharedLogWindow {
  readonly #at: BigInt64Array;
  readonly #suppressed: Int32Array;
  readonly #windowMs: bigint;
  readonly #now: () => number;

  /** A buffer for `slots` reasons, every one never logged; share it between threads. */
  static buffer(slots: number): SharedArrayBuffer {
    const buf = new SharedArrayBuffer(slots * 12);
    new BigInt64Array(buf, 0, slots).fill(NEVER);
    return buf;
  }

  constructor(buffer: SharedArrayBuffer, windowMs: number, now: () => number) {
    const slots = buffer.byteLength / 12;
    if (!Number.isInteger(slots) || slots < 1)
      throw new RangeError(`not a SharedLogWindow buffer: ${buffer.byteLength} bytes`);
    this.#at = new BigInt64Array(buffer, 0, slots);
    this.#suppressed = new Int32Array(buffer, slots * 8, slots);
    this.#windowMs = BigInt(Math.max(0, Math.floor(windowMs)));
    this.#now = now;
  }

  /**
   * Whether this line of reason `slot` is the one to write: the number of lines suppressed
   * since the last one written (by any thread), or undefined when it is suppressed (and
   * counted). A line suppressed by another thread at the same instant may be counted in the
   * next window's figure instead of this one's; none is lost.
   */
  claim(slot: number): number | undefined {
    if (slot < 0 || slot >= this.#at.length) throw new RangeError(`no log window slot ${slot}`);
    const now = BigInt(Math.floor(this.#now()));
    for (;;) {
      const last = Atomics.load(this.#at, slot);
      if (last !== NEVER && now - last < this.#windowMs) {
        Atomics.add(this.#suppressed, slot, 1);
        return undefined;
      }
      // Another thread may claim between the load and here: then the exchange fails and the
      // loop sees its time, inside the window.
      if (Atomics.compareExchange(this.#at, slot, last, now) === last)
        return Atomics.exchange(this.#suppressed, slot, 0);
    }
  }
}
