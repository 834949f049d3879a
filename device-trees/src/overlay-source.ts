/**
 * Where an overlay's .dtbo comes from: the package's build/ directory (filled by
 * `npm run build:dtbo`), compiled on demand from overlays/ when missing, or a .dtbo path given
 * by the user. Every overlay is checked against the board before anything is written.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOARDS, type BoardId } from './boards.js';
import { findOverlay } from './catalog.js';
import { compileOverlay, runCommand, type RunFn } from './dtc.js';
import { dtError } from './errors.js';
import { parseFdt, stringList } from './fdt.js';
import type { FsOps } from './fs-ops.js';

/** The package root (…/device-trees), from dist/src/overlay-source.js. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Loads the bytes of an overlay for a board: `name` is a catalog name or a path to a .dtbo. */
export type LoadOverlay = (board: BoardId, name: string) => Promise<{ name: string; dtbo: Buffer }>;

/** Production loader over the package's overlays/ and build/ directories. */
export function packageOverlayLoader(
  fs: FsOps,
  run: RunFn = runCommand,
  root = PACKAGE_ROOT,
): LoadOverlay {
  return async (board, name) => {
    if (name.endsWith('.dtbo')) {
      const base = basename(name, '.dtbo').replace(/^edgeflow-/, '');
      if (!/^[a-z0-9][a-z0-9-]*$/.test(base)) {
        throw dtError(
          'EDGEFLOW_DT_UNKNOWN_OVERLAY',
          `overlay file name ${JSON.stringify(basename(name))} must be lower-case letters, digits and dashes`,
        );
      }
      try {
        return { name: base, dtbo: await fs.readFile(name) };
      } catch (err) {
        throw dtError('EDGEFLOW_DT_UNKNOWN_OVERLAY', `cannot read overlay file ${name}`, err);
      }
    }
    const dir = BOARDS[board].overlayDir;
    if (!findOverlay(name) || dir === undefined) {
      throw dtError(
        'EDGEFLOW_DT_UNKNOWN_OVERLAY',
        `no overlay ${JSON.stringify(name)} for ${board}; \`edgeflow dt list --board ${board}\` shows them`,
      );
    }
    const built = join(root, 'build', dir, `${name}.dtbo`);
    if (!(await fs.exists(built))) {
      await fs.mkdirp(dirname(built));
      await compileOverlay(join(root, 'overlays', dir, `${name}.dts`), built, run);
    }
    return { name, dtbo: await fs.readFile(built) };
  };
}

/** Refuse an overlay whose root `compatible` names no compatible of this board. */
export function checkOverlayBoard(board: BoardId, name: string, dtbo: Buffer): void {
  const compat = stringList(parseFdt(dtbo, `overlay ${name}`).props.get('compatible'));
  const accepted = BOARDS[board].overlayCompatible;
  if (!compat.some((c) => accepted.includes(c))) {
    throw dtError(
      'EDGEFLOW_DT_WRONG_BOARD',
      `overlay ${name} is for ${compat.length ? JSON.stringify(compat) : 'an unspecified board (no compatible)'}, not ${board} (which accepts ${JSON.stringify(accepted)})`,
    );
  }
}
