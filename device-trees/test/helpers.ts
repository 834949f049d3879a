/** Shared test helpers: fixture roots in temp dirs, fixture overlays, golden files. */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { runCaptured } from '@edgeflow/core/testing';
import { BOARD_IDS, type BoardId } from '../src/boards.js';
import { runCli } from '../src/cli.js';
import { dtError } from '../src/errors.js';
import { nodeFsOps, type FsOps } from '../src/fs-ops.js';
import type { InstallerDeps } from '../src/installer.js';
import { PACKAGE_ROOT } from '../src/overlay-source.js';

export const FIXTURES = join(PACKAGE_ROOT, 'test/fixtures');
export const GOLDEN = join(PACKAGE_ROOT, 'test/golden');

/** A private copy of a fixture root (rpi5, rock-5b, jetson-orin-nano, lattepanda). */
export async function fixtureRoot(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `dt-${name}-`));
  await cp(join(FIXTURES, 'roots', name), dir, { recursive: true });
  return dir;
}

/** Loads overlays from test/fixtures/dtbo (real dtc output), so unit tests never spawn dtc. */
export function deps(fs: FsOps = nodeFsOps): InstallerDeps {
  return {
    fs,
    now: () => new Date('2025-01-01T00:00:00Z'),
    async loadOverlay(board: BoardId, name: string) {
      const src = name.endsWith('.dtbo') ? name : join(FIXTURES, 'dtbo', `${board}-${name}.dtbo`);
      try {
        const base = basename(name, '.dtbo');
        const n = BOARD_IDS.reduce(
          (s, b) => (s.startsWith(`${b}-`) ? s.slice(b.length + 1) : s),
          base,
        );
        return { name: n, dtbo: await readFile(src) };
      } catch (err) {
        throw dtError(
          'EDGEFLOW_DT_UNKNOWN_OVERLAY',
          `no fixture overlay ${name} for ${board}`,
          err,
        );
      }
    },
  };
}

/** Run the CLI and capture its output. */
export async function cli(
  argv: string[],
  d: InstallerDeps = deps(),
): Promise<{ code: number; out: string; err: string }> {
  return runCaptured((a, io) => runCli(a, io, d), argv);
}

/** Compare with a golden file; UPDATE_GOLDEN=1 rewrites it. */
export async function golden(rel: string, actual: string): Promise<void> {
  const path = join(GOLDEN, rel);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, actual);
    return;
  }
  assert.equal(actual, await readFile(path, 'utf8'), `golden ${rel} (UPDATE_GOLDEN=1 rewrites it)`);
}

/** Snapshot of every file under a root, to prove an error changed nothing. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const { readdir, stat } = await import('node:fs/promises');
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const n of await readdir(d)) {
      const p = join(d, n);
      if ((await stat(p)).isDirectory()) await walk(p);
      else out.set(p, (await readFile(p)).toString('base64'));
    }
  };
  await walk(root);
  return out;
}
