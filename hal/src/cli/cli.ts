import { formatCliError, parseCommandLine, type CliIo } from '@edgeflow/core';
import type { DetectedBoard } from '../board/detect.js';
import { detectBoard, simDetected } from '../board/detect.js';
import { busNotFound } from '../board/gaps.js';
import { BOARD_PROFILE_IDS } from '../board/identify.js';
import { resolvePin } from '../board/pins.js';
import type { GpioLine } from '../gpio/types.js';
import { loadCdevBinding } from '../gpio/cdev-binding.js';
import { openGpioChip } from '../gpio/open-chip.js';
import type { GpioBackendName } from '../board/types.js';
import { i2cBusTransportFactory } from '../i2c/registry.js';
import { QueuedI2cBus } from '../i2c/queued-bus.js';
import type { HalDeps } from '../poller/hal.js';
import { SimWorld } from '../sim/sim-world.js';
import { boardLink } from '../firmata/board-link.js';
import { FirmataI2cTransport } from '../firmata/i2c-transport.js';
import type { FirmataLink } from '../firmata/link.js';
import { FirmataLinkRegistry } from '../firmata/registry.js';
import { detectedJson, formatDetected } from './format.js';
import { probeFirmware } from './probe.js';

export type { CliIo };

/** Extra injection points for tests (signal ends `gpio watch`). */
export interface CliDeps extends HalDeps {
  readonly signal?: AbortSignal;
}

const USAGE = `usage: edgeflow hal <command>
  detect [--root DIR] [--board ID] [--json]   board, chips, buses, header pin map, what is missing;
         [--no-probe] [--device TTY]          on a co-processor board also its link and firmware
  i2c scan <bus> [--board ID]                 addresses that answer on /dev/i2c-<bus>
  gpio get <pin> [--board ID] [--backend B]   read a line (pin number, name, or label:offset)
  gpio set <pin> <0|1> [...]                  drive a line as an output
  gpio watch <pin> [--count N] [...]          print edges until Ctrl-C (or N edges)
options: --root DIR (default /), --board auto|sim|<profile id>, --backend auto|cdev|sysfs|sim,
  --device TTY (the co-processor's serial device instead of the USB search),
  --json, --no-probe (detect), --count N (watch), -h|--help
board ids: ${BOARD_PROFILE_IDS.join(', ')}, sim
`;

class UsageError extends Error {}

const common = {
  root: { type: 'string', default: '/' },
  board: { type: 'string', default: 'auto' },
  backend: { type: 'string', default: 'auto' },
  json: { type: 'boolean', default: false },
  count: { type: 'string' },
  probe: { type: 'boolean', default: true },
  device: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function detect(
  root: string,
  board: string,
  device: string | undefined,
  deps: CliDeps,
): Promise<DetectedBoard> {
  if (board === 'sim') return simDetected();
  const cdev = (deps.cdev ?? loadCdevBinding)();
  return detectBoard(
    { root, board, ...(device === undefined ? {} : { coprocessorDevice: device }) },
    {
      ...(deps.fs ? { fs: deps.fs } : {}),
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
      cdevInfo: cdev.ok ? (p: string) => cdev.binding.chipInfo(p) : undefined,
      cdevUnavailableReason: cdev.ok ? undefined : cdev.reason,
    },
  );
}

/**
 * Prints edges until `max` were seen, the signal aborts, or SIGINT/SIGTERM arrives. A ref'd
 * timer holds the event loop: the simulator's line owns no file descriptor, and without it the
 * process would end as soon as the loop is empty instead of waiting to be stopped.
 */
async function watchUntilStopped(
  line: GpioLine,
  max: number,
  out: (s: string) => unknown,
  signal: AbortSignal | undefined,
): Promise<number> {
  let n = 0;
  await new Promise<void>((resolve) => {
    const hold = setInterval(() => undefined, 1 << 30);
    const stop = (): void => {
      clearInterval(hold);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    if (signal) signal.addEventListener('abort', stop, { once: true });
    else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    line.onEdge((e) => {
      out(`${e.timestampNs} ${e.edge} ${e.value} seq ${e.seqno}\n`);
      n += 1;
      if (n >= max) stop();
    });
  });
  return n;
}

/**
 * `edgeflow hal ...`. Returns 0 on success, 1 when the operation failed, 2 on
 * a usage error. Never throws.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  deps: CliDeps = {},
): Promise<number> {
  const out = (s: string): boolean => io.stdout.write(s);
  try {
    const { values, positionals } = parseCommandLine(
      argv,
      { options: common, allowPositionals: true, allowNegative: true },
      (message, cause) => new UsageError(message, { cause }),
    );
    const [cmd, sub, ...rest] = positionals;
    if (values.help || cmd === undefined || cmd === 'help') {
      out(USAGE);
      return cmd === undefined && !values.help ? 2 : 0;
    }
    const board = await detect(values.root, values.board, values.device, deps);
    const sim = board.profile.id === 'sim' ? (deps.simWorld ?? new SimWorld()) : undefined;
    if (cmd === 'detect') {
      const probe =
        values.probe && board.coprocessor
          ? await probeFirmware(board, values.root, deps, { device: values.device })
          : undefined;
      out(
        values.json
          ? `${JSON.stringify(detectedJson(board, probe), null, 2)}\n`
          : formatDetected(board, probe),
      );
      return 0;
    }
    // One link to the co-processor for this command (closed on the way out).
    const links = new FirmataLinkRegistry();
    const link = boardLink(board, links, {
      root: values.root,
      ...(deps.fs ? { fs: deps.fs } : {}),
      ...(values.device === undefined ? {} : { device: values.device }),
      ...(deps.firmataLink ? { link: deps.firmataLink } : {}),
    });
    try {
      return await runOnBoard(cmd, sub, rest, values, { board, sim, link }, deps, out);
    } finally {
      await links.closeAll();
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`edgeflow hal: ${err.message}\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`${formatCliError('edgeflow hal', err)}\n`);
    return 1;
  }
}

type Values = ReturnType<
  typeof parseCommandLine<{ options: typeof common; allowPositionals: true; allowNegative: true }>
>['values'];

/** The board a command acts on: detection, the simulator, the co-processor link. */
interface Target {
  readonly board: DetectedBoard;
  readonly sim: SimWorld | undefined;
  readonly link: (() => Promise<FirmataLink>) | undefined;
}

/** The commands that act on the board (everything but detect). Returns the exit code. */
async function runOnBoard(
  cmd: string,
  sub: string | undefined,
  rest: readonly string[],
  values: Values,
  { board, sim, link }: Target,
  deps: CliDeps,
  out: (s: string) => boolean,
): Promise<number> {
  if (cmd === 'i2c' && sub === 'scan') {
    const busNo = Number(rest[0]);
    if (rest[0] === undefined || !Number.isInteger(busNo))
      throw new UsageError('i2c scan needs a bus number');
    // A bus the host does not expose is an error, not an empty scan: on a Pi "no devices"
    // would hide a bus that is simply not enabled in config.txt.
    // The co-processor's bus (LattePanda: 100) is reached through Firmata, not /dev/i2c-N.
    const viaMcu = board.profile.i2c.some((b) => b.bus === busNo && b.via === 'firmata');
    if (!sim && !viaMcu && !board.i2c.some((a) => a.bus === busNo)) throw busNotFound(board, busNo);
    const transport = sim
      ? await sim.i2cTransport(busNo)
      : viaMcu && link
        ? new FirmataI2cTransport(await link())
        : await (deps.i2cTransport ?? i2cBusTransportFactory())(busNo);
    const bus = new QueuedI2cBus(busNo, transport);
    try {
      const found = await bus.scan();
      out(
        `i2c-${busNo}: ${found.length === 0 ? 'no devices' : found.map((a) => `0x${a.toString(16).padStart(2, '0')}`).join(' ')}\n`,
      );
    } finally {
      await bus.close();
    }
    return 0;
  }
  if (cmd === 'gpio' && (sub === 'get' || sub === 'set' || sub === 'watch')) {
    const pin = rest[0];
    if (pin === undefined) throw new UsageError(`gpio ${sub} needs a pin`);
    const ref = resolvePin(board.profile, pin);
    const backend = values.backend as GpioBackendName | 'auto';
    if (!['auto', 'cdev', 'sysfs', 'sim'].includes(backend))
      throw new UsageError(`unknown backend ${backend}`);
    const chip = await openGpioChip(board, ref.chip, backend, {
      ...(deps.cdev ? { cdev: deps.cdev } : {}),
      ...(deps.onoff ? { onoff: deps.onoff } : {}),
      ...(sim ? { simChips: new Map([[sim.gpio.label, sim.gpio]]) } : {}),
      ...(link ? { firmata: link } : {}),
    });
    try {
      if (sub === 'get') {
        const line = await chip.requestLine(ref.line, {
          direction: 'input',
          consumer: 'edgeflow-cli',
        });
        out(`${ref.name} (${ref.chip}:${ref.line}) = ${await line.get()}\n`);
      } else if (sub === 'set') {
        const v = rest[1];
        if (v !== '0' && v !== '1') throw new UsageError('gpio set needs a value 0 or 1');
        const line = await chip.requestLine(ref.line, {
          direction: 'output',
          initial: v === '1' ? 1 : 0,
          consumer: 'edgeflow-cli',
        });
        out(`${ref.name} (${ref.chip}:${ref.line}) set to ${await line.get()}\n`);
      } else {
        const max = values.count === undefined ? Infinity : Number(values.count);
        const line = await chip.requestLine(ref.line, {
          direction: 'input',
          edge: 'both',
          consumer: 'edgeflow-cli',
        });
        out(`watching ${ref.name} (${ref.chip}:${ref.line}), initial ${await line.get()}\n`);
        const n = await watchUntilStopped(line, max, out, deps.signal);
        out(`stopped after ${n} edge${n === 1 ? '' : 's'}\n`);
      }
    } finally {
      await chip.close();
    }
    return 0;
  }
  throw new UsageError(`unknown command "${[cmd, sub].filter(Boolean).join(' ')}"`);
}
