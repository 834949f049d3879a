import type { Logger } from 'pino';
import { SharedLogWindow } from '../broker/shared-log-window.js';

/**
 * Reasons whose window is shared between threads: with ingest workers every worker runs its own
 * pipeline, and a per-thread window would log a flood of bad messages once per worker.
 */
export interface SharedReasons {
  /** From {@link SharedLogWindow.buffer}, one slot per reason, handed to every thread. */
  readonly buffer: SharedArrayBuffer;
  readonly reasons: readonly string[];
}

/**
 * Logs a given reason at most once per window, with the count suppressed since the last line.
 * Rejections are always counted in metrics; the log only says that they happen.
 */
export class RateLimitedLog {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  readonly #shared: { window: SharedLogWindow; slots: ReadonlyMap<string, number> } | undefined;

  constructor(windowMs: number, now: () => number, shared?: SharedReasons) {
    this.#windowMs = windowMs;
    this.#now = now;
    this.#shared = shared && {
      window: new SharedLogWindow(shared.buffer, windowMs, now),
      slots: new Map(shared.reasons.map((r, i) => [r, i])),
    };
  }

  warn(log: Logger, reason: string, fields: Record<string, unknown>, msg: string): void {
    const slot = this.#shared?.slots.get(reason);
    if (this.#shared && slot !== undefined) {
      const suppressed = this.#shared.window.claim(slot);
      if (suppressed !== undefined)
        log.warn({ ...fields, reason, suppressedSinceLast: suppressed }, msg);
      return;
    }
    const now = this.#now();
    const entry = this.#last.get(reason);
    if (entry !== undefined && now - entry.at < this.#windowMs) {
      entry.suppressed++;
      return;
    }
    log.warn({ ...fields, reason, suppressedSinceLast: entry?.suppressed ?? 0 }, msg);
    this.#last.set(reason, { at: now, suppressed: 0 });
  }
}
