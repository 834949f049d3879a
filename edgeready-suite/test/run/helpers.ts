// Helpers of the integration tests: the real `edgeready` CLI as a child process, a fixture
// /sys for thermal and cpufreq, headless Chromium.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliJs = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
/** git-ignored; CI keeps the run directories and the screenshot there. */
export const artifacts = fileURLToPath(new URL('../../../build/test-artifacts', import.meta.url));

export interface Child {
  readonly child: ChildProcess;
  /** Parsed JSON lines of stdout so far. */
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves with the first stdout JSON line matching. */
  waitFor(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** Starts `node dist/src/cli.js args…`. */
export function edgeready(args: readonly string[]): Child {
  const child = spawn(process.execPath, [cliJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    pred: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buf = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        lines.push(rec);
        for (const w of [...waiters]) {
          if (w.pred(rec)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(rec);
          }
        }
      } catch {
        /* not JSON */
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    waitFor: (pred) =>
      new Promise((resolve, reject) => {
        const hit = lines.find(pred);
        if (hit) return resolve(hit);
        waiters.push({ pred, resolve });
        void exited.then((code) =>
          reject(new Error(`edgeready exited ${String(code)} first: ${err.slice(-2000)}`)),
        );
      }),
  };
}

/** A host root with one thermal zone and two cpufreq CPUs (a VM has neither). */
export async function sysFixture(root: string): Promise<void> {
  const tz = join(root, 'sys/class/thermal/thermal_zone0');
  await mkdir(tz, { recursive: true });
  await writeFile(join(tz, 'type'), 'cpu-thermal\n');
  await writeFile(join(tz, 'temp'), '48312\n');
  await writeFile(join(tz, 'trip_point_0_type'), 'critical\n');
  await writeFile(join(tz, 'trip_point_0_temp'), '110000\n');
  for (const c of ['cpu0', 'cpu1']) {
    const d = join(root, `sys/devices/system/cpu/${c}/cpufreq`);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'scaling_cur_freq'), '2400000\n');
    await writeFile(join(d, 'cpuinfo_max_freq'), '2400000\n');
  }
}

/** Path of Debian's chromium, or undefined. */
export function chromiumPath(): string | undefined {
  for (const c of ['chromium', 'chromium-browser']) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return c;
  }
  return undefined;
}

/** Headless screenshot of a local file (fresh profile, no network services). */
export function screenshot(
  browser: string,
  html: string,
  png: string,
  profile: string,
): { status: number | null; stderr: string } {
  const r = spawnSync(
    browser,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--window-size=1400,2600',
      `--screenshot=${png}`,
      `file://${html}`,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { status: r.status, stderr: r.stderr };
}
