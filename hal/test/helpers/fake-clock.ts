/** A manual clock: sleep() advances time at once; timers fire on advance(). */
export class FakeClock {
  ms = 0;
  readonly #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #nextId = 1;
  readonly now = (): number => this.ms;
  readonly hrtime = (): bigint => BigInt(Math.round(this.ms * 1e6));
  readonly sleep = (ms: number): Promise<void> => {
    this.ms += ms;
    return Promise.resolve();
  };
  readonly setTimer = (fn: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#timers.push({ at: this.ms + ms, fn, id });
    return id;
  };
  readonly clearTimer = (id: unknown): void => {
    const i = this.#timers.findIndex((t) => t.id === id);
    if (i >= 0) this.#timers.splice(i, 1);
  };
  /** Fires every timer due within `ms`, letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.ms + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const t = this.#timers[0];
      if (!t || t.at > end) break;
      this.#timers.shift();
      this.ms = Math.max(this.ms, t.at);
      t.fn();
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    }
    this.ms = Math.max(this.ms, end);
  }
}
