// Host side of the HAL system tier: prepares the kernel (kernel.sh) and the initramfs
// (initramfs.sh), boots the QEMU guest with a bounded time, and parses the TAP stream
// the guest writes to its second serial port. QEMU is always killed on the way out.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tests/qemu (the sources: scripts and the guest init), from tests/dist/qemu at run time. */
export const QEMU_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../qemu');
/** The repository root. */
export const REPO = join(QEMU_DIR, '../..');
/**
 * This clone's build output (git-ignored): the initramfs holds its compiled hal and guest tests,
 * so it is rebuilt every run and never shared. The kernel (a download) is cached outside the
 * clone by kernel.sh.
 */
export const BUILD = join(REPO, 'build', 'qemu');

/** What the tier needs on the host, with the command that provides it. */
const NEEDS: readonly { what: string; ok: () => boolean; hint: string }[] = [
  { what: 'qemu-system-x86_64', ok: () => onPath('qemu-system-x86_64'), hint: 'qemu-system-x86' },
  { what: 'static busybox', ok: () => staticBusybox(), hint: 'busybox-static' },
  { what: 'cpio', ok: () => onPath('cpio'), hint: 'cpio' },
  { what: 'apt-get/dpkg-deb', ok: () => onPath('apt-get') && onPath('dpkg-deb'), hint: 'apt' },
  { what: 'xz', ok: () => onPath('xz'), hint: 'xz-utils' },
  { what: 'make', ok: () => onPath('make'), hint: 'make' },
  { what: 'gcc-12 (the Debian 12 kernel compiler)', ok: () => onPath('gcc-12'), hint: 'gcc-12' },
  {
    what: 'the GPIO cdev addon',
    ok: () => existsSync(join(REPO, 'hal/native/build/Release/edgeflow_gpio_cdev.node')),
    hint: 'npm run build:native -w hal',
  },
  {
    what: 'i2c-bus and onoff (built)',
    ok: () =>
      existsSync(join(REPO, 'node_modules/i2c-bus/build/Release/i2c.node')) &&
      existsSync(join(REPO, 'node_modules/epoll/build/Release/epoll.node')),
    hint: 'npm ci (builds the optional i2c-bus and onoff addons)',
  },
];

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function staticBusybox(): boolean {
  const which = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || path === '') return false;
  // ldd fails on a static binary: that is the one the initramfs can use.
  return spawnSync('ldd', [path], { stdio: 'ignore' }).status !== 0;
}

/** Missing prerequisites, each with its install hint; empty when the tier can run. */
export function missingPrerequisites(): string[] {
  return NEEDS.filter((n) => !n.ok()).map((n) => `${n.what} (install: ${n.hint})`);
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout also ends apt-get/make/tar started by the script.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is already gone: the leader at most
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else {
        const why = signal ? `killed after ${timeoutMs} ms` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${err.slice(-4000)}`));
      }
    });
  });
}

// Bounds: kernel 200 s + initramfs 60 s + guest 300 s stay under run-tests' 600 s per file.

/** Fetches the current Debian kernel and builds gpio-sim.ko (cached per version). */
export async function prepareKernel(timeoutMs = 200_000): Promise<string> {
  const out = await run('bash', [join(QEMU_DIR, 'kernel.sh')], timeoutMs);
  return out.split('\n').at(-1) ?? '';
}

/** Builds the initramfs for this kernel; returns its path. */
export async function buildInitramfs(kernelDir: string, timeoutMs = 60_000): Promise<string> {
  mkdirSync(BUILD, { recursive: true });
  const out = join(BUILD, 'guest.cpio');
  await run('bash', [join(QEMU_DIR, 'initramfs.sh'), kernelDir, out], timeoutMs);
  return out;
}

/** One top-level test as the guest's node:test reported it. */
export interface GuestResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip' | 'todo';
  readonly reason?: string;
  /** The indented TAP block under the result (YAML diagnostics: error, stack). */
  readonly detail: string;
}

/** What a guest run produced. */
export interface GuestRun {
  readonly booted: boolean;
  /** Exit status of node --test in the guest; undefined when it never got there. */
  readonly exitCode: number | undefined;
  readonly results: readonly GuestResult[];
  readonly setupError?: string;
  readonly timedOut?: 'boot' | 'run';
  /** Serial console (kernel messages, spec reporter), for diagnostics. */
  readonly console: string;
  readonly seconds: number;
}

const RESULT_RE = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$/;

/** Parses the top-level results out of node:test's TAP stream. */
export function parseTap(tap: string): GuestResult[] {
  const results: GuestResult[] = [];
  const lines = tap.replace(/\r/g, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = RESULT_RE.exec(lines[i] ?? '');
    if (!m) continue;
    const detail: string[] = [];
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1] ?? '')) detail.push(lines[++i] ?? '');
    const directive = m[3];
    const status =
      directive === 'SKIP'
        ? 'skip'
        : directive === 'TODO'
          ? 'todo'
          : m[1] === 'ok'
            ? 'pass'
            : 'fail';
    const name = (m[2] ?? '').replace(/\\#/g, '#');
    results.push({ name, status, ...(m[4] ? { reason: m[4] } : {}), detail: detail.join('\n') });
  }
  return results;
}

/** How to boot the guest. */
export interface BootOptions {
  readonly kernelDir: string;
  readonly initrd: string;
  /** The guest must print its first line within this time. */
  readonly bootTimeoutMs?: number;
  /** The whole run (boot + tests) must end within this time. */
  readonly runTimeoutMs?: number;
}

/**
 * TCG by default: it behaves the same on every CI machine. KVM (EDGEFLOW_QEMU_ACCEL=kvm)
 * is faster where it works, but nested KVM with -cpu max can abort QEMU
 * ("failed to set MSR 0x10a"), so it is opt-in, with -cpu host.
 */
function accelArgs(): string[] {
  return process.env.EDGEFLOW_QEMU_ACCEL === 'kvm'
    ? ['-accel', 'kvm', '-cpu', 'host']
    : ['-accel', 'tcg', '-cpu', 'max'];
}

/**
 * Boots the guest and collects its results. Never throws for a guest failure: the
 * caller asserts on the returned run. QEMU is killed when a timeout hits and in any case
 * before this resolves.
 */
export function bootGuest(opts: BootOptions): Promise<GuestRun> {
  const bootTimeoutMs = opts.bootTimeoutMs ?? 90_000;
  const runTimeoutMs = opts.runTimeoutMs ?? 300_000;
  const resultsFile = join(BUILD, `results-${process.pid}.tap`);
  rmSync(resultsFile, { force: true });
  const args = [
    ...['-M', 'pc', '-smp', '2', '-m', '1024', ...accelArgs()],
    ...['-display', 'none', '-no-reboot', '-monitor', 'none'],
    ...['-serial', 'stdio', '-serial', `file:${resultsFile}`],
    ...['-kernel', join(opts.kernelDir, 'vmlinuz'), '-initrd', opts.initrd],
    ...['-append', 'console=ttyS0 rdinit=/init loglevel=3 panic=-1'],
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let booted = false;
    let timedOut: 'boot' | 'run' | undefined;
    let spawnError = '';
    const kill = (why: 'boot' | 'run'): void => {
      timedOut = why;
      qemu.kill('SIGKILL');
    };
    const bootTimer = setTimeout(() => kill('boot'), bootTimeoutMs);
    const runTimer = setTimeout(() => kill('run'), runTimeoutMs);
    const onData = (d: Buffer): void => {
      consoleText += d.toString();
      if (!booted && consoleText.includes('EDGEFLOW-GUEST-BOOTED')) {
        booted = true;
        clearTimeout(bootTimer);
      }
    };
    qemu.stdout.on('data', onData);
    qemu.stderr.on('data', onData);
    qemu.on('error', (err) => (spawnError = err.message));
    const onExit = (): void => {
      qemu.kill('SIGKILL');
    };
    // If the test process itself is torn down, take QEMU with it.
    process.once('exit', onExit);
    qemu.on('close', () => {
      process.off('exit', onExit);
      clearTimeout(bootTimer);
      clearTimeout(runTimer);
      const tap = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
      rmSync(resultsFile, { force: true });
      const exit = /EDGEFLOW-GUEST-EXIT (\d+)/.exec(tap);
      const setup = /EDGEFLOW-GUEST-SETUP-FAILED (.*)/.exec(tap);
      const begin = tap.indexOf('EDGEFLOW-TAP-BEGIN');
      resolve({
        booted,
        exitCode: exit ? Number(exit[1]) : undefined,
        results: begin >= 0 ? parseTap(tap.slice(begin)) : [],
        ...(setup ? { setupError: setup[1] } : spawnError ? { setupError: spawnError } : {}),
        ...(timedOut ? { timedOut } : {}),
        console: consoleText,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}
