// The emulated Firmata board of the tests: simavr running real StandardFirmata (see
// hal/test/firmata/simavr/firmata-board.c for the rig and why it is an ATmega328P). The C rig
// is compiled at first use from Debian 12 packages (libsimavr-dev, gcc) and the firmware comes
// from the npm package avrgirl-arduino (prebuilt .hex files); both are cached outside the
// clone under ${EDGEFLOW_CACHE:-/var/cache/edgeflow}, keyed by content.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(
  new URL('../../../test/firmata/simavr/firmata-board.c', import.meta.url),
);
const CACHE = process.env.EDGEFLOW_CACHE ?? '/var/cache/edgeflow';
const AVRGIRL = 'avrgirl-arduino@5.0.1';

/** Firmware images used by the tests, pinned by SHA-256. */
export const FIRMWARE = {
  /** StandardFirmata for the Arduino Uno (ATmega328P): protocol 2.4. */
  standard: {
    path: 'package/junk/hex/uno/StandardFirmata.cpp.hex',
    sha256: '6d57ea7cf30e26c9c2f3a01ee37907d2c951f8bc9c27f84dddad12fa9c8b8f36',
  },
  /** StandardFirmata for the Arduino Nano (ATmega328P): protocol 2.3, an older release. */
  older: {
    path: 'package/junk/hex/nano/StandardFirmata.cpp.hex',
    sha256: '252bc6f27b63864482ddaca95e02af4c285e674b016c95875a242827e6b76142',
  },
  /** Blink for the Uno: a sketch that is not Firmata at all. */
  blink: {
    path: 'package/junk/hex/uno/Blink.cpp.hex',
    sha256: 'ebc22be95deaebf9dec9ee9c8d99bda57cfc20cc37efbc72b959afaa88278404',
  },
} as const;
export type FirmwareName = keyof typeof FIRMWARE;

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** What is missing for the emulated board, or an empty list. */
export function missingBoardPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync('/usr/include/simavr/sim_avr.h')) missing.push('libsimavr-dev (simavr headers)');
  if (
    !existsSync('/usr/lib/x86_64-linux-gnu/libsimavr.so.2') &&
    !existsSync('/usr/lib/aarch64-linux-gnu/libsimavr.so.2')
  )
    missing.push('libsimavr2');
  if (compiler() === undefined) missing.push('a C compiler (gcc-12)');
  return missing;
}

function compiler(): string | undefined {
  for (const cc of ['cc', 'gcc-12', 'gcc']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return undefined;
}

/** Builds the rig once per content (source + compiler), returns the binary's path. */
export function buildRig(): string {
  const cc = compiler() ?? 'cc';
  const version = spawnSync(cc, ['--version'], { encoding: 'utf8' }).stdout;
  const key = sha256(readFileSync(SOURCE, 'utf8') + version).slice(0, 16);
  const dir = join(CACHE, 'simavr-firmata', key);
  const bin = join(dir, 'firmata-board');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  // Debian ships libsimavr.so.2 without the unversioned dev symlink, and simavr.pc requires
  // libelf.pc (libelf-dev) even for dynamic linking: name the library directly instead.
  const r = spawnSync(
    cc,
    [
      '-O2',
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-I/usr/include/simavr',
      SOURCE,
      '-l:libsimavr.so.2',
      '-lutil',
      '-o',
      tmp,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`building the simavr rig failed:\n${r.stderr}`);
  renameSync(tmp, bin);
  return bin;
}

/** Extracts the pinned firmware images from avrgirl-arduino's npm tarball (cached). */
export function firmwarePath(name: FirmwareName): string {
  const f = FIRMWARE[name];
  const dir = join(CACHE, 'firmata-firmware', f.sha256.slice(0, 16));
  const out = join(dir, 'firmware.hex');
  if (existsSync(out) && sha256(readFileSync(out)) === f.sha256) return out;
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'avrgirl-'));
  try {
    // npm pack checks the tarball against the registry's integrity hash.
    const pack = spawnSync('npm', ['pack', AVRGIRL, '--silent', '--pack-destination', work], {
      encoding: 'utf8',
    });
    if (pack.status !== 0) throw new Error(`npm pack ${AVRGIRL} failed: ${pack.stderr}`);
    const tgz = join(work, pack.stdout.trim().split('\n').at(-1) ?? '');
    const tar = spawnSync('tar', ['-xzf', tgz, '-C', work, f.path], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`extracting ${f.path}: ${tar.stderr}`);
    const got = readFileSync(join(work, f.path));
    if (sha256(got) !== f.sha256)
      throw new Error(`${f.path} has SHA-256 ${sha256(got)}, expected ${f.sha256}`);
    renameSync(join(work, f.path), out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** The emulated board and its test rig. */
export class FirmataBoard {
  /** Path of the symlink to the current pty: the "USB serial device". */
  readonly device: string;
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiter: ((l: string) => void) | undefined;
  readonly #dir: string;
  #stderr = '';

  private constructor(proc: ChildProcessWithoutNullStreams, dir: string) {
    this.#proc = proc;
    this.#dir = dir;
    this.device = join(dir, 'ttyACM0');
    createInterface({ input: proc.stdout }).on('line', (l) => {
      const w = this.#waiter;
      this.#waiter = undefined;
      if (w) w(l);
      else this.#lines.push(l);
    });
    proc.stderr.on('data', (d: Buffer) => (this.#stderr += d.toString()));
  }

  /** Starts the rig with a firmware image; resolves once the pty exists. */
  static async start(firmware: FirmwareName = 'standard'): Promise<FirmataBoard> {
    const bin = buildRig();
    const hex = firmwarePath(firmware);
    const dir = mkdtempSync(join(tmpdir(), 'firmata-board-'));
    const proc = spawn(bin, [hex, join(dir, 'ttyACM0')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const board = new FirmataBoard(proc, dir);
    const first = await board.#next(10_000);
    if (!first.startsWith('ready '))
      throw new Error(`rig did not start: ${first} ${board.#stderr}`);
    return board;
  }

  #next(ms: number): Promise<string> {
    const l = this.#lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`rig silent for ${ms} ms; stderr: ${this.#stderr}`)),
        ms,
      );
      this.#waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  /** Sends one rig command; resolves with what follows "ok", rejects on "err". */
  async command(line: string): Promise<string> {
    this.#proc.stdin.write(`${line}\n`);
    const reply = await this.#next(10_000);
    if (!reply.startsWith('ok')) throw new Error(`rig: ${line} -> ${reply}`);
    return reply.slice(2).trim();
  }

  drive(pin: number, level: 0 | 1 | undefined): Promise<void> {
    return this.command(`drive ${pin} ${level === undefined ? 'z' : level}`).then(() => undefined);
  }
  async level(pin: number): Promise<number> {
    return Number(await this.command(`level ${pin}`));
  }
  async wire(a: number, b: number): Promise<void> {
    await this.command(`wire ${a} ${b}`);
  }
  async analog(channel: number, millivolts: number): Promise<void> {
    await this.command(`analog ${channel} ${millivolts}`);
  }
  async i2cAttach(address: number, kind: 'reg8' | 'reg16' | 'sht3x'): Promise<void> {
    await this.command(`i2c-attach ${address} ${kind}`);
  }
  async i2cDetach(address: number): Promise<void> {
    await this.command(`i2c-detach ${address}`);
  }
  async i2cSet(address: number, register: number, bytes: ArrayLike<number>): Promise<void> {
    const hexBytes = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    await this.command(`i2c-set ${address} ${register} ${hexBytes}`);
  }
  async i2cGet(address: number, register: number, length: number): Promise<number[]> {
    const hexBytes = await this.command(`i2c-get ${address} ${register} ${length}`);
    return Array.from({ length }, (_, i) => parseInt(hexBytes.slice(2 * i, 2 * i + 2), 16));
  }
  /** The USB link drops (pty gone, device path gone); the MCU keeps running. */
  async unplug(): Promise<void> {
    await this.command('unplug');
  }
  /** A new pty behind the device path; `reset` also resets the MCU (its pin state is lost). */
  async plug(reset: boolean): Promise<void> {
    await this.command(reset ? 'plug reset' : 'plug');
  }

  /** The MCU resets (watchdog, brown-out) while the USB link stays up. */
  async reset(): Promise<void> {
    await this.command('reset');
  }

  async stop(): Promise<void> {
    if (this.#proc.exitCode === null) {
      this.#proc.stdin.write('quit\n');
      await new Promise((r) => this.#proc.once('exit', r));
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
