import type { BoardProfile } from '../board/types.js';
import { resolvePin } from '../board/pins.js';
import { HalError } from '../errors.js';
import { FirmataAnalogInput } from '../firmata/analog.js';
import { FIRMATA_CHIP_LABEL } from '../firmata/gpio-chip.js';
import type { FirmataLink } from '../firmata/link.js';
import { Backoff } from './backoff.js';
import type { AnalogConfig } from './config.js';
import { toHalError } from './events.js';

/** A voltage reading of one analog input, as the Hal emits it. */
export interface AnalogReading {
  readonly name: string;
  readonly volts: number;
  readonly source: string;
}

/** What the analog poller needs from the Hal. */
export interface AnalogPollerDeps {
  readonly profile: BoardProfile;
  /** The co-processor link; undefined on a board without one. */
  readonly link: (() => Promise<FirmataLink>) | undefined;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (handle: unknown) => void;
  readonly random?: () => number;
  readonly reading: (r: AnalogReading) => void;
  readonly problem: (source: string, error: HalError, attempt: number, retryInMs: number) => void;
}

interface Task {
  readonly cfg: AnalogConfig;
  readonly source: string;
  readonly backoff: Backoff;
  input: FirmataAnalogInput | undefined;
  timer: unknown;
  running: Promise<void> | undefined;
}

/**
 * Polls the configured analog inputs (hal.analog) of the board's co-processor every
 * `intervalMs`: a reading `<name>/voltage` in volts (code / full scale * vref), retried with
 * backoff while the link is down. Firmata reports analog values on its own every sampling
 * interval; the poller samples the latest so readings come at the configured rate.
 */
export class AnalogPoller {
  readonly #d: AnalogPollerDeps;
  readonly #tasks: Task[];
  #stopped = true;

  constructor(configs: readonly AnalogConfig[], deps: AnalogPollerDeps) {
    this.#d = deps;
    this.#tasks = configs.map((cfg) => ({
      cfg,
      source: `analog/${String(cfg.pin)}`,
      backoff: new Backoff(cfg.retry, deps.random),
      input: undefined,
      timer: undefined,
      running: undefined,
    }));
  }

  start(): void {
    this.#stopped = false;
    for (const t of this.#tasks) this.#schedule(t, 0);
  }

  #schedule(t: Task, ms: number): void {
    if (this.#stopped) return;
    t.timer = this.#d.setTimer(() => {
      t.running = this.#poll(t).finally(() => (t.running = undefined));
    }, ms);
  }

  async #open(t: Task): Promise<FirmataAnalogInput> {
    const ref = resolvePin(this.#d.profile, t.cfg.pin);
    if (ref.chip !== FIRMATA_CHIP_LABEL || !this.#d.link) {
      throw new HalError(
        'EDGEFLOW_HAL_UNSUPPORTED',
        `analog input "${t.cfg.name}" (${String(t.cfg.pin)}): analog inputs are read through a Firmata co-processor, which the ${this.#d.profile.name} profile does not have`,
        { details: { pin: String(t.cfg.pin) } },
      );
    }
    const link = await this.#d.link();
    return FirmataAnalogInput.open(link, ref.line, { consumer: `edgeflow:${t.cfg.name}` });
  }

  async #poll(t: Task): Promise<void> {
    try {
      t.input ??= await this.#open(t);
      const s = await t.input.read();
      t.backoff.reset();
      if (this.#stopped) return;
      this.#d.reading({
        name: t.cfg.name,
        volts: (s.raw / s.fullScale) * t.cfg.vref,
        source: t.source,
      });
      this.#schedule(t, t.cfg.intervalMs);
    } catch (err) {
      const delay = t.backoff.next();
      if (this.#stopped) return;
      const e = toHalError(err, t.source, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN');
      this.#d.problem(t.source, e, t.backoff.attempt, delay);
      this.#schedule(t, delay);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tasks) {
      if (t.timer !== undefined) this.#d.clearTimer(t.timer);
      t.timer = undefined;
    }
    await Promise.all(this.#tasks.map((t) => t.running ?? Promise.resolve()));
    await Promise.all(this.#tasks.map((t) => t.input?.close() ?? Promise.resolve()));
  }
}
