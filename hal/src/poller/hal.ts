import { EventEmitter } from 'node:events';
import type { DetectedBoard } from '../board/detect.js';
import type { HostFs } from '../board/host-fs.js';
import type { BoardProfile } from '../board/types.js';
import { HalError } from '../errors.js';
import type { FirmataLink, FirmataLinkOptions } from '../firmata/link.js';
import type { FirmataLinkRegistry } from '../firmata/registry.js';
import type { BindingLoad } from '../gpio/cdev-binding.js';
import { loadCdevBinding } from '../gpio/cdev-binding.js';
import type { GpioOpenDeps, OnoffLoad } from '../gpio/open-chip.js';
import { openGpioChip } from '../gpio/open-chip.js';
import type { LineValue } from '../gpio/types.js';
import type { I2cBusRegistry, TransportFactory } from '../i2c/registry.js';
import type { SimWorld } from '../sim/sim-world.js';
import { AnalogPoller } from './analog-inputs.js';
import type { HalConfig, SensorConfig } from './config.js';
import { addressConflict, DEMO_SENSORS, sensorConfigSchema } from './config.js';
import type { HalEvents, HalProblem } from './events.js';
import type { GpioLineStatus } from './gpio-lines.js';
import { GpioLines } from './gpio-lines.js';
import type { SensorSummary } from './sensor-poller.js';
import { SensorPoller } from './sensor-poller.js';

export type { GpioEdge, HalEvents, HalProblem, Reading } from './events.js';
export type { GpioLineState, GpioLineStatus } from './gpio-lines.js';
export type { SensorSummary } from './sensor-poller.js';

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

/** @internal createHal fills in the production defaults. */
export type ResolvedDeps = Required<Pick<HalDeps, 'now' | 'setTimer' | 'clearTimer' | 'sleep'>> &
  HalDeps;

/** The running HAL: sensor pollers, GPIO lines, analog inputs, typed events. Create with `createHal`. */
export class Hal extends EventEmitter<HalEvents> {
  readonly config: HalConfig;
  readonly board: DetectedBoard;
  readonly simWorld: SimWorld | undefined;
  readonly #registry: I2cBusRegistry;
  readonly #firmataLinks: FirmataLinkRegistry;
  readonly #sensors: SensorPoller;
  readonly #gpio: GpioLines;
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
    this.config = config;
    this.board = board;
    this.simWorld = simWorld;
    this.#registry = registry;
    this.#firmataLinks = firmata.links;
    const timers = { setTimer: deps.setTimer, clearTimer: deps.clearTimer };
    const random = deps.random ? { random: deps.random } : {};
    const problem = (p: HalProblem): void => void this.emit('problem', p);
    this.#sensors = new SensorPoller(sensorsOf(config, board, simWorld), defaultBus(board), {
      ...timers,
      ...random,
      registry,
      keyPrefix: config.keyPrefix,
      now: deps.now,
      sleep: deps.sleep,
      simWorld,
      reading: (r) => this.emit('reading', r),
      problem,
    });
    this.#gpio = new GpioLines(config.gpio, {
      ...timers,
      ...random,
      profile: board.profile,
      openChip: (label) =>
        openGpioChip(board, label, config.gpioBackend, chipDeps(deps, simWorld, firmata.link)),
      keyPrefix: config.keyPrefix,
      now: deps.now,
      value: (key, value, source) =>
        this.emit('reading', {
          key,
          value: value === 1,
          unit: '',
          ts: deps.now(),
          source,
          quality: 'good',
        }),
      edge: (e) => this.emit('edge', e),
      problem,
    });
    this.#analog = new AnalogPoller(config.analog, {
      ...timers,
      ...random,
      profile: board.profile,
      link: firmata.link,
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
        problem({ source, error, attempt, retryInMs }),
    });
  }

  /** Configured sensors (id, type, bus, address, interval). */
  sensors(): SensorSummary[] {
    return this.#sensors.list();
  }

  /**
   * The lines of hal.gpio: state (ready, pending: retried with backoff, failed: not retried),
   * value when ready, and why not otherwise.
   */
  gpio(): GpioLineStatus[] {
    return this.#gpio.list();
  }

  /** Starts polling and requests the GPIO lines. Failures become `problem` events and retries. */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    await this.#gpio.start();
    this.#sensors.start();
    this.#analog.start();
  }

  /**
   * Sets an output line (the HTTP/MQTT command path); rejects with a typed error:
   * EDGEFLOW_HAL_LINE_UNAVAILABLE (with the cause) while the line's request has not succeeded.
   */
  setOutput(name: string, value: LineValue): Promise<void> {
    return this.#gpio.set(name, value);
  }

  /** Current value of a configured line (same errors as setOutput). */
  getLine(name: string): Promise<LineValue> {
    return this.#gpio.get(name);
  }

  /** Stops pollers and retries, waits for work in flight, releases lines, buses and links. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#sensors.stop();
    await this.#analog.stop();
    await this.#gpio.stop();
    await this.#registry.closeAll();
    await this.#firmataLinks.closeAll();
  }
}

/** The configured sensors, or the demo ones on the simulator when none are (hal.demo). */
function sensorsOf(
  config: HalConfig,
  board: DetectedBoard,
  simWorld: SimWorld | undefined,
): readonly SensorConfig[] {
  const sensors =
    config.sensors.length === 0 && simWorld && config.demo
      ? DEMO_SENSORS.map((s) => sensorConfigSchema.parse(s))
      : config.sensors;
  const bus = defaultBus(board);
  // Config validation cannot see a clash between `bus` left out and the board's first bus.
  const conflict = addressConflict(sensors, bus);
  if (conflict !== undefined)
    throw new HalError(
      'EDGEFLOW_HAL_ADDRESS_CONFLICT',
      `hal.sensors.${conflict.index}: ${conflict.message} (bus left out = ${bus} on ${board.profile.id})`,
      { details: { bus: sensors[conflict.index]?.bus ?? bus } },
    );
  return sensors;
}

function defaultBus(board: DetectedBoard): number {
  return board.profile.i2c[0]?.bus ?? 1;
}

/** Where openGpioChip finds its backends: injected ones, the simulator, the co-processor link. */
function chipDeps(
  deps: ResolvedDeps,
  simWorld: SimWorld | undefined,
  link: (() => Promise<FirmataLink>) | undefined,
): GpioOpenDeps {
  return {
    cdev: deps.cdev ?? loadCdevBinding,
    ...(deps.onoff ? { onoff: deps.onoff } : {}),
    ...(simWorld ? { simChips: new Map([[simWorld.gpio.label, simWorld.gpio]]) } : {}),
    ...(link ? { firmata: link } : {}),
  };
}
