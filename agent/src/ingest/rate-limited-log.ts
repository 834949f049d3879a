import type { Logger } from 'pino';

/**
 * Logs a given reason at most once per window, with the count suppressed since the last line.
 * Rejections are always counted in metrics; the log only says that they happen.
 */
export class RateLimitedLog {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  warn(log: Logger, reason: string, fields: Record<string, unknown>, msg: string): void {
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
