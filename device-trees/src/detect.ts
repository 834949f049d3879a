/**
 * Board detection from the boot root: `/proc/device-tree/compatible` (NUL-separated list) on
 * ARM boards, DMI strings on x86 (LattePanda). Self-contained on purpose: it must not depend on
 * the HAL package.
 */
import { join } from 'node:path';
import { BOARDS, BOARD_IDS, isBoardId, type BoardId } from './boards.js';
import { dtError } from './errors.js';
import type { FsOps } from './fs-ops.js';

async function readText(fs: FsOps, path: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path)).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Detect the board under `root`, or throw EDGEFLOW_DT_UNKNOWN_BOARD naming what was found. */
export async function detectBoard(root: string, fs: FsOps): Promise<BoardId> {
  const compat = await readText(fs, join(root, 'proc/device-tree/compatible'));
  if (compat !== undefined) {
    const list = compat.split('\0').filter((s) => s !== '');
    for (const id of BOARD_IDS) {
      if (BOARDS[id].compatible.some((re) => list.some((c) => re.test(c)))) return id;
    }
    throw dtError(
      'EDGEFLOW_DT_UNKNOWN_BOARD',
      `board not supported: /proc/device-tree/compatible is ${JSON.stringify(list)}; supported: ${BOARD_IDS.join(', ')}`,
    );
  }
  const dmi = (
    await Promise.all(
      ['board_vendor', 'board_name', 'product_name', 'sys_vendor'].map((f) =>
        readText(fs, join(root, 'sys/class/dmi/id', f)),
      ),
    )
  )
    .filter((s): s is string => s !== undefined)
    .map((s) => s.trim());
  if (dmi.some((s) => /lattepanda/i.test(s))) return 'lattepanda';
  throw dtError(
    'EDGEFLOW_DT_UNKNOWN_BOARD',
    `cannot identify the board under ${root}: no /proc/device-tree/compatible and DMI says ${JSON.stringify(dmi)}; pass --board`,
  );
}

/** Resolve `--board auto|<id>`. */
export async function resolveBoard(board: string, root: string, fs: FsOps): Promise<BoardId> {
  if (board === 'auto') return detectBoard(root, fs);
  if (isBoardId(board)) return board;
  throw dtError(
    'EDGEFLOW_DT_UNKNOWN_BOARD',
    `unknown board ${JSON.stringify(board)}; use auto or one of ${BOARD_IDS.join(', ')}`,
  );
}
