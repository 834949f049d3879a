import type { DetectedBoard } from '../board/detect.js';
import { detectBoard, simDetected } from '../board/detect.js';
import { HalError } from '../errors.js';
import { boardLink } from '../firmata/board-link.js';
import { FirmataI2cTransport } from '../firmata/i2c-transport.js';
import { FirmataLinkRegistry } from '../firmata/registry.js';
import { loadCdevBinding } from '../gpio/cdev-binding.js';
import type { TransportFactory } from '../i2c/registry.js';
import { I2cBusRegistry, i2cBusTransportFactory } from '../i2c/registry.js';
import { SimWorld } from '../sim/sim-world.js';
import type { HalConfig, HalConfigInput } from './config.js';
import { halConfigSchema } from './config.js';
import type { HalDeps } from './hal.js';
import { Hal } from './hal.js';

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
  const board = await boardFor(config, deps);
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
  const factory: TransportFactory = simWorld
    ? (bus) => simWorld.i2cTransport(bus)
    : hostI2c(board, link, deps.i2cTransport ?? i2cBusTransportFactory());
  return new Hal(
    config,
    board,
    simWorld,
    new I2cBusRegistry(factory),
    {
      ...deps,
      now: deps.now ?? Date.now,
      setTimer: deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: deps.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)),
      sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    },
    { links, link },
  );
}

/**
 * The detected board, or the simulator: when asked (`board: sim`), or when auto-detection finds
 * no known board and no GPIO or I2C at all (hal.fallbackToSim). Never when the root does not
 * exist: that is a wrong hal.root, not a host without hardware, and simulated readings would
 * pass for real ones.
 */
async function boardFor(config: HalConfig, deps: HalDeps): Promise<DetectedBoard> {
  if (config.board === 'sim') return simDetected();
  const cdev = (deps.cdev ?? loadCdevBinding)();
  const board = await detectBoard(
    {
      root: config.root,
      board: config.board,
      ...(config.firmata.device === undefined ? {} : { coprocessorDevice: config.firmata.device }),
    },
    {
      ...(deps.fs ? { fs: deps.fs } : {}),
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
      cdevInfo: cdev.ok ? (p: string) => cdev.binding.chipInfo(p) : undefined,
      cdevUnavailableReason: cdev.ok ? undefined : cdev.reason,
    },
  );
  const nothingHere = board.gpioBackend === 'none' && board.i2c.length === 0;
  const fallback =
    config.board === 'auto' &&
    config.fallbackToSim &&
    board.matchedBy === 'none' &&
    nothingHere &&
    board.rootMissing !== true;
  return fallback ? simDetected() : board;
}

/** I2C of a real host: a co-processor bus (LattePanda: 100) through Firmata, the others /dev/i2c-N. */
function hostI2c(
  board: DetectedBoard,
  link: ReturnType<typeof boardLink>,
  kernelI2c: TransportFactory,
): TransportFactory {
  const viaFirmata = new Set(
    board.profile.i2c.filter((b) => b.via === 'firmata').map((b) => b.bus),
  );
  return (bus) => {
    if (!viaFirmata.has(bus)) return kernelI2c(bus);
    // boardLink gives every profile with a co-processor a link: this is a profile mistake.
    if (!link)
      return Promise.reject(
        new HalError(
          'EDGEFLOW_HAL_UNSUPPORTED',
          `i2c-${bus} is a co-processor bus but the ${board.profile.name} profile has no co-processor`,
          { details: { bus } },
        ),
      );
    return link().then((l) => new FirmataI2cTransport(l));
  };
}
