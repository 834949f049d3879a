import { resolvePin } from '../board/pins.js';
import type { LineRef } from '../board/pins.js';
import type { BoardProfile } from '../board/types.js';
import type { HalErrorCode } from '../errors.js';
import { HalError } from '../errors.js';
import type { GpioChip, GpioLine, LineValue } from '../gpio/types.js';
import { Backoff } from './backoff.js';
import type { GpioConfig } from './config.js';
import type { GpioEdge, HalProblem, PollerTimers } from './events.js';
import { toHalError } from './events.js';

/**
 * ready: requested. pending: its request failed and is tried again with backoff (a co-processor
 * still enumerating at boot, a line another process holds for a moment). failed: not tried
 * again, because the cause cannot change while the agent runs (a pin the board does not have).
 */
export type GpioLineState = 'ready' | 'pending' | 'failed';

/** A configured GPIO line as the Hal lists it (`GET /v1/gpio`). */
export interface GpioLineStatus {
  readonly name: string;
  readonly direction: 'input' | 'output';
  /** `gpio/<chip>:<offset>` once the pin is resolved, `gpio/<pin>` before. */
  readonly source: string;
  readonly state: GpioLineState;
  /** Last known logical value (ready lines). */
  readonly value?: LineValue;
  /** Why the line is not ready (pending, failed). */
  readonly error?: { readonly code: HalErrorCode; readonly message: string };
  /** Failed requests so far (pending, failed). */
  readonly attempts?: number;
  /** Delay before the next request, as scheduled after the last failure (pending). */
  readonly retryInMs?: number;
}

/** What the GPIO lines need from the Hal. */
export interface GpioLinesDeps extends PollerTimers {
  readonly profile: BoardProfile;
  /** Opens the chip with this label through the configured backend. */
  readonly openChip: (label: string) => Promise<GpioChip>;
  readonly keyPrefix: string;
  readonly now: () => number;
  readonly random?: () => number;
  /** The value of a line: at its request, on each edge, after each set. */
  readonly value: (key: string, value: LineValue, source: string) => void;
  readonly edge: (e: GpioEdge) => void;
  readonly problem: (p: HalProblem) => void;
}

interface Entry {
  readonly cfg: GpioConfig;
  readonly backoff: Backoff;
  source: string;
  line: GpioLine | undefined;
  value: LineValue | undefined;
  error: HalError | undefined;
  /** Undefined while ready, and for a failure that is not retried. */
  retryInMs: number | undefined;
  timer: unknown;
  requesting: Promise<void> | undefined;
}

/**
 * The lines of `hal.gpio`, by name. A request that fails is retried with the sensors' backoff
 * (min, max, factor, jitter from the line's `retry`), so a line whose chip appears late (the
 * LattePanda's co-processor enumerating on USB after the agent started) works once it is there
 * instead of never. Until then setOutput/get reject with EDGEFLOW_HAL_LINE_UNAVAILABLE and the
 * cause, and `list()` shows the state.
 */
export class GpioLines {
  readonly #d: GpioLinesDeps;
  readonly #entries = new Map<string, Entry>();
  /** One open per chip label, shared by its lines; a failed open is forgotten (tried again). */
  readonly #chips = new Map<string, Promise<GpioChip>>();
  #stopped = true;

  constructor(configs: readonly GpioConfig[], deps: GpioLinesDeps) {
    this.#d = deps;
    for (const cfg of configs) {
      this.#entries.set(cfg.name, {
        cfg,
        backoff: new Backoff(cfg.retry, deps.random),
        source: `gpio/${String(cfg.pin)}`,
        line: undefined,
        value: undefined,
        error: undefined,
        retryInMs: undefined,
        timer: undefined,
        requesting: undefined,
      });
    }
  }

  /** Requests every line once, in config order; failures become `problem`s and retries. */
  async start(): Promise<void> {
    this.#stopped = false;
    for (const e of this.#entries.values()) {
      e.requesting = this.#request(e).finally(() => (e.requesting = undefined));
      await e.requesting;
    }
  }

  list(): GpioLineStatus[] {
    return [...this.#entries.values()].map((e) => {
      const state: GpioLineState = e.line
        ? 'ready'
        : e.retryInMs === undefined && e.error !== undefined
          ? 'failed'
          : 'pending';
      return {
        name: e.cfg.name,
        direction: e.cfg.direction,
        source: e.source,
        state,
        ...(e.line && e.value !== undefined ? { value: e.value } : {}),
        ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
        ...(e.line ? {} : { attempts: e.backoff.attempt }),
        ...(e.retryInMs === undefined ? {} : { retryInMs: e.retryInMs }),
      };
    });
  }

  /** Sets an output line; rejects with a coded error (unknown name, not available yet, ...). */
  async set(name: string, value: LineValue): Promise<void> {
    const e = this.#usable(name);
    await e.line.set(value);
    this.#report(e, value);
  }

  /** Reads a line's current value. */
  async get(name: string): Promise<LineValue> {
    const e = this.#usable(name);
    return await e.line.get();
  }

  #usable(name: string): Entry & { line: GpioLine } {
    const e = this.#entries.get(name);
    if (!e) {
      throw new HalError(
        'EDGEFLOW_HAL_UNKNOWN_PIN',
        `no GPIO line named "${name}" in the hal config`,
        { details: { pin: name } },
      );
    }
    if (e.line) return e as Entry & { line: GpioLine };
    throw unavailable(e);
  }

  async #request(e: Entry): Promise<void> {
    let ref: LineRef;
    try {
      ref = resolvePin(this.#d.profile, e.cfg.pin);
    } catch (err) {
      // The profile and the config do not change while the agent runs: not retried.
      this.#failed(e, toHalError(err, e.source, 'EDGEFLOW_HAL_UNKNOWN_PIN'), false);
      return;
    }
    e.source = `gpio/${ref.chip}:${ref.line}`;
    let line: GpioLine | undefined;
    try {
      const chip = await this.#chip(ref.chip);
      line = await chip.requestLine(ref.line, {
        direction: e.cfg.direction,
        bias: e.cfg.bias,
        activeLow: e.cfg.activeLow,
        edge: e.cfg.direction === 'input' ? e.cfg.edge : 'none',
        debounceMs: e.cfg.debounceMs,
        initial: e.cfg.initial,
        consumer: `edgeflow:${e.cfg.name}`,
      });
      const value = await line.get();
      if (this.#stopped) {
        await line.close();
        return;
      }
      this.#adopt(e, line, value);
    } catch (err) {
      // A line requested but not readable is released, so the next attempt can take it again.
      await line?.close().catch(() => undefined);
      this.#failed(e, toHalError(err, e.source, 'EDGEFLOW_HAL_GPIO_IO'), true);
    }
  }

  #adopt(e: Entry, line: GpioLine, value: LineValue): void {
    e.line = line;
    e.error = undefined;
    e.retryInMs = undefined;
    e.backoff.reset();
    line.onEdge((ev) => {
      this.#d.edge({
        name: e.cfg.name,
        edge: ev.edge,
        value: ev.value,
        ts: this.#d.now(),
        timestampNs: ev.timestampNs,
      });
      this.#report(e, ev.value);
    });
    this.#report(e, value);
  }

  #failed(e: Entry, error: HalError, retry: boolean): void {
    if (this.#stopped) return;
    e.error = error;
    const delay = retry ? e.backoff.next() : undefined;
    if (!retry) e.backoff.next(); // counts the attempt
    e.retryInMs = delay;
    this.#d.problem({
      source: e.source,
      error,
      attempt: e.backoff.attempt,
      ...(delay === undefined ? {} : { retryInMs: delay }),
    });
    if (delay === undefined) return;
    e.timer = this.#d.setTimer(() => {
      e.timer = undefined;
      e.requesting = this.#request(e).finally(() => (e.requesting = undefined));
    }, delay);
  }

  #report(e: Entry, value: LineValue): void {
    e.value = value;
    this.#d.value(`${this.#d.keyPrefix}gpio/${e.cfg.name}`, value, e.source);
  }

  #chip(label: string): Promise<GpioChip> {
    let chip = this.#chips.get(label);
    if (!chip) {
      chip = this.#d.openChip(label);
      this.#chips.set(label, chip);
      chip.catch(() => this.#chips.delete(label));
    }
    return chip;
  }

  /** Ends the retries, waits for requests in flight, releases every line and chip. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const e of this.#entries.values()) {
      if (e.timer !== undefined) this.#d.clearTimer(e.timer);
      e.timer = undefined;
    }
    await Promise.all([...this.#entries.values()].map((e) => e.requesting ?? Promise.resolve()));
    const chips = await Promise.allSettled(this.#chips.values());
    this.#chips.clear();
    for (const c of chips) if (c.status === 'fulfilled') await c.value.close();
    for (const e of this.#entries.values()) {
      e.line = undefined;
      e.value = undefined;
    }
  }
}

function unavailable(e: Entry): HalError {
  const cause = e.error;
  const why = cause ? cause.message : 'not requested yet';
  const what = `GPIO line "${e.cfg.name}" (pin ${String(e.cfg.pin)})`;
  const message =
    e.retryInMs === undefined && cause !== undefined
      ? `${what} is not available: ${why}; not retried (fix hal.gpio)`
      : `${what} is not available yet: ${why}; attempt ${e.backoff.attempt}, next in ${e.retryInMs ?? 0} ms`;
  return new HalError('EDGEFLOW_HAL_LINE_UNAVAILABLE', message, {
    ...(cause ? { cause } : {}),
    details: { pin: String(e.cfg.pin), ...(cause ? { causeCode: cause.code } : {}) },
  });
}
