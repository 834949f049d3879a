import { EventEmitter } from 'node:events';
import type { DetectedBoard } from '../board/detect.js';
import { detectBoard, simDetected } from '../board/detect.js';
import type { HostFs } from '../board/host-fs.js';
import { resolvePin } from '../board/pins.js';
import type { SensorDriver } from '../drivers/types.js';
import { HalError } from '../errors.js';
import type { BindingLoad } from '../gpio/cdev-binding.js';
import { loadCdevBinding } from '../gpio/cdev-binding.js';
import type { OnoffLoad } from '../gpio/open-chip.js';
import { openGpioChip } from '../gpio/open-chip.js';
import type { GpioChip, GpioLine, LineValue } from '../gpio/types.js';
import type { TransportFactory } from '../i2c/registry.js';
import { I2cBusRegistry, i2cBusTransportFactory } from '../i2c/registry.js';
import { SimWorld } from '../sim/sim-world.js';
import type { BoardProfile } from '../board/types.js';
import { boardLink } from '../firmata/board-link.js';
import { FirmataI2cTransport } from '../firmata/i2c-transport.js';
import type { FirmataLink, FirmataLinkOptions } from '../firmata/link.js';
import { FirmataLinkRegistry } from '../firmata/registry.js';
import { AnalogPoller } from './analog-inputs.js';
import { Backoff } from './backoff.js';
import type { GpioConfig, HalConfig, HalConfigInput, SensorConfig } from './config.js';
import { addressConflict, DEMO_SENSORS, halConfigSchema, sensorConfigSchema } from './config.js';
import { createDriver } from './sensors.js';

/** A reading for the sensor cache. */
export interface Reading {
  readonly key: string;
  readonly value: number | boolean;
  readonly unit: string;
  /** Milliseconds since the epoch when it was measured. */
  readonly ts: number;
  /** Where it came from: `i2c-1/0x76/bme280` or `gpio/<chip>:<line>`. */
  readonly source: string;
  /** 'stale' = the last good value, re-emitted because the sensor is failing. */
  readonly quality: 'good' | 'stale';
}

/** An input edge, for the MQTT event topic `events/<device>/gpio/<name>`. */
export interface GpioEdge {
  readonly name: string;
  readonly edge: 'rising' | 'falling';
  readonly value: LineValue;
  readonly ts: number;
  readonly timestampNs: bigint;
}

/** A failed poll (expected failures: not logged as errors by the HAL itself). */
export interface HalProblem {
  readonly source: string;
  readonly error: HalError;
  readonly attempt: number;
  /** When the next attempt happens; undefined for problems that are not retried. */
  readonly retryInMs?: number;
}

/** Typed events of a running HAL. */
export interface HalEvents {
  reading: [Reading];
  edge: [GpioEdge];
  problem: [HalProblem];
}

/** World access; every field has a production default. */
export interface HalDeps {
  readonly fs?: HostFs;
  readonly cdev?: () => BindingLoad;
  readonly onoff?: () => Promise<OnoffLoad>;
  readonly i2cTransport?: TransportFactory;
  /** Wall clock (ms since epoch) for reading timestamps. */
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Simulator board to use when the board is `sim` (tests pass one with a fake clock). */
  readonly simWorld?: SimWorld;
  /** Profiles tried before the built-in ones (tests describe emulated boards this way). */
  readonly profiles?: readonly BoardProfile[];
  /** Co-processor link settings beyond hal.firmata (serial opener, backoff), for tests. */
  readonly firmataLink?: Partial<FirmataLinkOptions>;
}

type ResolvedDeps = Required<Pick<HalDeps, 'now' | 'setTimer' | 'clearTimer' | 'sleep'>> & HalDeps;

interface SensorTask {
  readonly cfg: SensorConfig;
  readonly busNo: number;
  readonly backoff: Backoff;
  driver: SensorDriver | undefined;
  initialized: boolean;
  last: Reading[];
  staleMarked: boolean;
  timer: unknown;
  running: Promise<void> | undefined;
}

function toHalError(err: unknown, source: string): HalError {
  if (err instanceof HalError) return err;
  return new HalError(
    'EDGEFLOW_HAL_I2C_BUS_ERROR',
    `${source}: ${(err as Error)?.message ?? String(err)}`,
    {
      cause: err,
    },
  );
}

/** The running HAL: pollers, GPIO lines, typed events. Create with `createHal`. */
export class Hal extends EventEmitter<HalEvents> {
  readonly config: HalConfig;
  readonly board: DetectedBoard;
  readonly simWorld: SimWorld | undefined;
  readonly #registry: I2cBusRegistry;
  readonly #deps: ResolvedDeps;
  readonly #tasks: SensorTask[] = [];
  readonly #chips = new Map<string, GpioChip>();
  readonly #lines = new Map<string, { cfg: GpioConfig; line: GpioLine; source: string }>();
  readonly #gpioState = new Map<string, LineValue>();
  /** The board's co-processor link (LattePanda), opened on first use; undefined elsewhere. */
  readonly #firmata: (() => Promise<FirmataLink>) | undefined;
  readonly #firmataLinks: FirmataLinkRegistry;
  readonly #analog: AnalogPoller;
  #stopped = true;

  /** @internal use createHal */
  constructor(
    config: HalConfig,
    board: DetectedBoard,
    simWorld: SimWorld | undefined,
    registry: I2cBusRegistry,
    deps: ResolvedDeps,
    firmata: { links: FirmataLinkRegistry; link: (() => Promise<FirmataLink>) | undefined },
  ) {
    super();
    this.#firmata = firmata.link;
    this.#firmataLinks = firmata.links;
    this.#analog = new AnalogPoller(config.analog, {
      profile: board.profile,
      link: firmata.link,
      setTimer: deps.setTimer,
      clearTimer: deps.clearTimer,
      ...(deps.random ? { random: deps.random } : {}),
      reading: (r) =>
        this.emit('reading', {
          key: `${config.keyPrefix}${r.name}/voltage`,
          value: r.volts,
          unit: 'V',
          ts: deps.now(),
          source: r.source,
          quality: 'good',
        }),
      problem: (source, error, attempt, retryInMs) =>
        this.emit('problem', { source, error, attempt, retryInMs }),
    });
    this.config = config;
    this.board = board;
    this.simWorld = simWorld;
    this.#registry = registry;
    this.#deps = deps;
    const sensors =
      config.sensors.length === 0 && simWorld && config.demo
        ? DEMO_SENSORS.map((s) => sensorConfigSchema.parse(s))
        : config.sensors;
    const defaultBus = board.profile.i2c[0]?.bus ?? 1;
    // Config validation cannot see a clash between `bus` left out and the board's first bus.
    const conflict = addressConflict(sensors, defaultBus);
    if (conflict !== undefined)
      throw new HalError(
        'EDGEFLOW_HAL_ADDRESS_CONFLICT',
        `hal.sensors.${conflict.index}: ${conflict.message} (bus left out = ${defaultBus} on ${board.profile.id})`,
        { details: { bus: sensors[conflict.index]?.bus ?? defaultBus } },
      );
    for (const cfg of sensors) {
      this.#tasks.push({
        cfg,
        busNo: cfg.bus ?? defaultBus,
        backoff: new Backoff(cfg.retry, deps.random),
        driver: undefined,
        initialized: false,
        last: [],
        staleMarked: false,
        timer: undefined,
        running: undefined,
      });
    }
  }

  /** Configured sensors (id, type, bus, address, interval). */
  sensors(): Array<{ id: string; type: string; bus: number; address: number; intervalMs: number }> {
    return this.#tasks.map((t) => ({
      id: t.cfg.id,
      type: t.cfg.type,
      bus: t.busNo,
      address: t.cfg.address,
      intervalMs: t.cfg.intervalMs,
    }));
  }

  /** Requested GPIO lines with their current value. */
  gpio(): Array<{
    name: string;
    direction: 'input' | 'output';
    source: string;
    value?: LineValue;
  }> {
    return [...this.#lines.entries()].map(([name, l]) => {
      const value = this.#gpioState.get(name);
      return {
        name,
        direction: l.cfg.direction,
        source: l.source,
        ...(value === undefined ? {} : { value }),
      };
    });
  }

  /** Starts polling and requests the GPIO lines. Line failures become `problem` events. */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    for (const g of this.config.gpio) await this.#requestLine(g);
    for (const t of this.#tasks) this.#schedule(t, 0);
    this.#analog.start();
  }

  async #requestLine(g: GpioConfig): Promise<void> {
    const source = `gpio/${String(g.pin)}`;
    try {
      const ref = resolvePin(this.board.profile, g.pin);
      let chip = this.#chips.get(ref.chip);
      if (!chip) {
        chip = await openGpioChip(this.board, ref.chip, this.config.gpioBackend, {
          ...(this.#deps.cdev ? { cdev: this.#deps.cdev } : { cdev: loadCdevBinding }),
          ...(this.#deps.onoff ? { onoff: this.#deps.onoff } : {}),
          ...(this.simWorld
            ? { simChips: new Map([[this.simWorld.gpio.label, this.simWorld.gpio]]) }
            : {}),
          ...(this.#firmata ? { firmata: this.#firmata } : {}),
        });
        this.#chips.set(ref.chip, chip);
      }
      const line = await chip.requestLine(ref.line, {
        direction: g.direction,
        bias: g.bias,
        activeLow: g.activeLow,
        edge: g.direction === 'input' ? g.edge : 'none',
        debounceMs: g.debounceMs,
        initial: g.initial,
        consumer: `edgeflow:${g.name}`,
      });
      const src = `gpio/${ref.chip}:${ref.line}`;
      this.#lines.set(g.name, { cfg: g, line, source: src });
      line.onEdge((e) => {
        const ts = this.#deps.now();
        this.#gpioState.set(g.name, e.value);
        this.emit('edge', {
          name: g.name,
          edge: e.edge,
          value: e.value,
          ts,
          timestampNs: e.timestampNs,
        });
        this.#emitGpio(g.name, e.value, src);
      });
      this.#emitGpio(g.name, await line.get(), src);
    } catch (err) {
      this.emit('problem', { source, error: toHalError(err, source), attempt: 1 });
    }
  }

  #emitGpio(name: string, value: LineValue, source: string): void {
    this.#gpioState.set(name, value);
    this.emit('reading', {
      key: `${this.config.keyPrefix}gpio/${name}`,
      value: value === 1,
      unit: '',
      ts: this.#deps.now(),
      source,
      quality: 'good',
    });
  }

  /** Sets an output line (the HTTP/MQTT command path); rejects with a typed error. */
  async setOutput(name: string, value: LineValue): Promise<void> {
    const l = this.#lines.get(name);
    if (!l) {
      throw new HalError(
        'EDGEFLOW_HAL_UNKNOWN_PIN',
        `no GPIO line named "${name}" in the hal config`,
        {
          details: { pin: name },
        },
      );
    }
    await l.line.set(value);
    this.#emitGpio(name, value, l.source);
  }

  /** Current value of a configured line. */
  async getLine(name: string): Promise<LineValue> {
    const l = this.#lines.get(name);
    if (!l) {
      throw new HalError(
        'EDGEFLOW_HAL_UNKNOWN_PIN',
        `no GPIO line named "${name}" in the hal config`,
        {
          details: { pin: name },
        },
      );
    }
    return l.line.get();
  }

  #schedule(t: SensorTask, ms: number): void {
    if (this.#stopped) return;
    t.timer = this.#deps.setTimer(() => {
      t.running = this.#poll(t).finally(() => (t.running = undefined));
    }, ms);
  }

  async #poll(t: SensorTask): Promise<void> {
    const source = `i2c-${t.busNo}/0x${t.cfg.address.toString(16)}/${t.cfg.type}`;
    try {
      this.simWorld?.update();
      const bus = await this.#registry.open(t.busNo);
      t.driver ??= createDriver(t.cfg, bus, { sleep: this.#deps.sleep });
      if (!t.initialized) {
        await t.driver.init();
        t.initialized = true;
      }
      const values = await t.driver.read();
      const ts = this.#deps.now();
      t.last = values.map((v) => ({
        key: `${this.config.keyPrefix}${t.cfg.id}/${v.quantity}`,
        value: v.value,
        unit: v.unit,
        ts,
        source,
        quality: 'good' as const,
      }));
      t.backoff.reset();
      t.staleMarked = false;
      if (this.#stopped) return;
      for (const r of t.last) this.emit('reading', r);
      this.#schedule(t, t.cfg.intervalMs);
    } catch (err) {
      // Re-probe the part on the next attempt: it may have been power-cycled.
      t.initialized = false;
      const delay = t.backoff.next();
      if (this.#stopped) return;
      if (t.last.length > 0 && !t.staleMarked) {
        t.staleMarked = true;
        for (const r of t.last) this.emit('reading', { ...r, quality: 'stale' });
      }
      this.emit('problem', {
        source,
        error: toHalError(err, source),
        attempt: t.backoff.attempt,
        retryInMs: delay,
      });
      this.#schedule(t, delay);
    }
  }

  /** Stops pollers, waits for polls in flight, releases lines and buses. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#tasks) {
      if (t.timer !== undefined) this.#deps.clearTimer(t.timer);
      t.timer = undefined;
    }
    await Promise.all(this.#tasks.map((t) => t.running ?? Promise.resolve()));
    await this.#analog.stop();
    for (const c of this.#chips.values()) await c.close();
    this.#chips.clear();
    this.#lines.clear();
    await this.#registry.closeAll();
    await this.#firmataLinks.closeAll();
  }
}

/** Validates a hal config, with the path of the bad key in the error. */
export function parseHalConfig(input: unknown): HalConfig {
  const r = halConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue ? issue.path.map(String).join('.') : '';
    const conflict =
      issue?.code === 'custom' && issue.params?.code === 'EDGEFLOW_HAL_ADDRESS_CONFLICT';
    throw new HalError(
      conflict ? 'EDGEFLOW_HAL_ADDRESS_CONFLICT' : 'EDGEFLOW_HAL_BAD_CONFIG',
      `hal${path ? `.${path}` : ''}: ${issue?.message ?? 'invalid'}`,
      { cause: r.error },
    );
  }
  return r.data;
}

/**
 * Detects the board (or uses the simulator), builds drivers and GPIO lines from
 * the config and returns a Hal ready to `start()`. Readings are emitted as
 * `reading` events; the agent stores them in its cache.
 */
export async function createHal(
  input: HalConfigInput | undefined,
  deps: HalDeps = {},
): Promise<Hal> {
  const config = parseHalConfig(input);
  const now = deps.now ?? Date.now;
  let board: DetectedBoard;
  if (config.board === 'sim') board = simDetected();
  else {
    const cdev = (deps.cdev ?? loadCdevBinding)();
    board = await detectBoard(
      {
        root: config.root,
        board: config.board,
        ...(config.firmata.device === undefined
          ? {}
          : { coprocessorDevice: config.firmata.device }),
      },
      {
        ...(deps.fs ? { fs: deps.fs } : {}),
        ...(deps.profiles ? { profiles: deps.profiles } : {}),
        cdevInfo: cdev.ok ? (p: string) => cdev.binding.chipInfo(p) : undefined,
        cdevUnavailableReason: cdev.ok ? undefined : cdev.reason,
      },
    );
    const nothingHere = board.gpioBackend === 'none' && board.i2c.length === 0;
    if (
      config.board === 'auto' &&
      config.fallbackToSim &&
      board.matchedBy === 'none' &&
      nothingHere
    ) {
      board = simDetected();
    }
  }
  const simWorld = board.profile.id === 'sim' ? (deps.simWorld ?? new SimWorld()) : undefined;
  const links = new FirmataLinkRegistry();
  const link = boardLink(board, links, {
    root: config.root,
    ...(deps.fs ? { fs: deps.fs } : {}),
    ...(config.firmata.device === undefined ? {} : { device: config.firmata.device }),
    minProtocol: config.firmata.minProtocol,
    handshakeTimeoutMs: config.firmata.handshakeTimeoutMs,
    ...(deps.firmataLink ? { link: deps.firmataLink } : {}),
  });
  const kernelI2c = deps.i2cTransport ?? i2cBusTransportFactory();
  const viaFirmata = new Set(
    board.profile.i2c.filter((b) => b.via === 'firmata').map((b) => b.bus),
  );
  // A co-processor bus (LattePanda: 100) goes through Firmata, the others to /dev/i2c-N.
  const hostI2c: TransportFactory = (bus) =>
    viaFirmata.has(bus)
      ? link
        ? link().then((l) => new FirmataI2cTransport(l))
        : Promise.reject(
            new HalError(
              'EDGEFLOW_HAL_MCU_NOT_FOUND',
              `i2c-${bus} is the co-processor's I2C and the co-processor was not found: ${board.missing.map((m) => m.why).join('; ')}`,
              { details: { bus } },
            ),
          )
      : kernelI2c(bus);
  const factory: TransportFactory = simWorld ? (bus) => simWorld.i2cTransport(bus) : hostI2c;
  return new Hal(
    config,
    board,
    simWorld,
    new I2cBusRegistry(factory),
    {
      ...deps,
      now,
      setTimer: deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: deps.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)),
      sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    },
    { links, link },
  );
}
