/** Retry delay policy: exponential with jitter, reset on success. */
export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** Fraction of the delay randomised (0.2 = +-20%) so a fleet does not retry in lockstep. */
  readonly jitter: number;
}

/** Stateful backoff: next() grows the delay, reset() after a success. */
export class Backoff {
  readonly #o: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#o = options;
    this.#random = random;
  }

  get attempt(): number {
    return this.#attempt;
  }

  next(): number {
    const base = Math.min(this.#o.maxMs, this.#o.minMs * this.#o.factor ** this.#attempt);
    this.#attempt += 1;
    const spread = base * this.#o.jitter * (this.#random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
