import type { SensorDriver } from '../drivers/types.js';
import type { I2cBusRegistry } from '../i2c/registry.js';
import type { SimWorld } from '../sim/sim-world.js';
import { Backoff } from './backoff.js';
import type { SensorConfig } from './config.js';
import type { HalProblem, PollerTimers, Reading } from './events.js';
import { toHalError } from './events.js';
import { createDriver } from './sensors.js';

/** What the sensor poller needs from the Hal. */
export interface SensorPollerDeps extends PollerTimers {
  readonly registry: I2cBusRegistry;
  readonly keyPrefix: string;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** The simulator board, advanced before each poll. */
  readonly simWorld: SimWorld | undefined;
  readonly reading: (r: Reading) => void;
  readonly problem: (p: HalProblem) => void;
}

interface SensorTask {
  readonly cfg: SensorConfig;
  readonly busNo: number;
  readonly source: string;
  readonly backoff: Backoff;
  driver: SensorDriver | undefined;
  initialized: boolean;
  last: Reading[];
  staleMarked: boolean;
  timer: unknown;
  running: Promise<void> | undefined;
}

/** A configured sensor as the Hal lists it. */
export interface SensorSummary {
  readonly id: string;
  readonly type: string;
  readonly bus: number;
  readonly address: number;
  readonly intervalMs: number;
}

/**
 * Polls the I2C sensors every `intervalMs`. A failed poll is retried with backoff and jitter
 * (the part is probed again: it may have been power-cycled); the last good values are re-emitted
 * once as 'stale' so a consumer sees that they no longer move.
 */
export class SensorPoller {
  readonly #d: SensorPollerDeps;
  readonly #tasks: SensorTask[];
  #stopped = true;

  constructor(sensors: readonly SensorConfig[], defaultBus: number, deps: SensorPollerDeps) {
    this.#d = deps;
    this.#tasks = sensors.map((cfg) => {
      const busNo = cfg.bus ?? defaultBus;
      return {
        cfg,
        busNo,
        source: `i2c-${busNo}/0x${cfg.address.toString(16)}/${cfg.type}`,
        backoff: new Backoff(cfg.retry, deps.random),
        driver: undefined,
        initialized: false,
        last: [],
        staleMarked: false,
        timer: undefined,
        running: undefined,
      };
    });
  }

  list(): SensorSummary[] {
    return this.#tasks.map((t) => ({
      id: t.cfg.id,
      type: t.cfg.type,
      bus: t.busNo,
      address: t.cfg.address,
      intervalMs: t.cfg.intervalMs,
    }));
  }

  start(): void {
    this.#stopped = false;
    for (const t of this.#tasks) this.#schedule(t, 0);
  }

  #schedule(t: SensorTask, ms: number): void {
    if (this.#stopped) return;
    t.timer = this.#d.setTimer(() => {
      t.running = this.#poll(t).finally(() => (t.running = undefined));
    }, ms);
  }

  async #poll(t: SensorTask): Promise<void> {
    try {
      this.#d.simWorld?.update();
      const bus = await this.#d.registry.open(t.busNo);
      t.driver ??= createDriver(t.cfg, bus, { sleep: this.#d.sleep });
      if (!t.initialized) {
        await t.driver.init();
        t.initialized = true;
      }
      const values = await t.driver.read();
      const ts = this.#d.now();
      t.last = values.map((v) => ({
        key: `${this.#d.keyPrefix}${t.cfg.id}/${v.quantity}`,
        value: v.value,
        unit: v.unit,
        ts,
        source: t.source,
        quality: 'good' as const,
      }));
      t.backoff.reset();
      t.staleMarked = false;
      if (this.#stopped) return;
      for (const r of t.last) this.#d.reading(r);
      this.#schedule(t, t.cfg.intervalMs);
    } catch (err) {
      // Re-probe the part on the next attempt: it may have been power-cycled.
      t.initialized = false;
      const delay = t.backoff.next();
      if (this.#stopped) return;
      if (t.last.length > 0 && !t.staleMarked) {
        t.staleMarked = true;
        for (const r of t.last) this.#d.reading({ ...r, quality: 'stale' });
      }
      this.#d.problem({
        source: t.source,
        error: toHalError(err, t.source),
        attempt: t.backoff.attempt,
        retryInMs: delay,
      });
      this.#schedule(t, delay);
    }
  }

  /** Stops the timers and waits for the polls in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tasks) {
      if (t.timer !== undefined) this.#d.clearTimer(t.timer);
      t.timer = undefined;
    }
    await Promise.all(this.#tasks.map((t) => t.running ?? Promise.resolve()));
  }
}
