/**
 * Which board the boot root belongs to, in the HAL's vocabulary: the HAL's identification
 * (`/proc/device-tree/compatible` on ARM, DMI on x86) gives the profile id (`rpi5`, `rock-5b`,
 * ...), which must be one of the boards overlays exist for. One table of compatible patterns
 * (the HAL profiles) serves `edgeflow hal`, `edgeflow dt` and `edgeflow ota`.
 */
import { identifyBoard, lattePandaProfiles } from '@edgeflow/hal';
import { BOARD_IDS, isBoardId, type BoardId } from './boards.js';
import { dtError } from './errors.js';
import type { FsOps } from './fs-ops.js';

/** Detect the board under `root`, or throw EDGEFLOW_DT_UNKNOWN_BOARD naming what was found. */
export async function detectBoard(root: string, fs: FsOps): Promise<BoardId> {
  const id = await identifyBoard(root, fs);
  if (id.matchedBy !== 'none' && isBoardId(id.profile.id)) return id.profile.id;
  // The HAL has one profile per LattePanda model; for overlays they are one (x86) board.
  if (id.matchedBy !== 'none' && isLattePanda(id.profile.id)) return 'lattepanda';
  const seen =
    id.compatible.length > 0
      ? `/proc/device-tree/compatible is ${JSON.stringify(id.compatible)}`
      : `no /proc/device-tree/compatible and DMI says ${JSON.stringify(Object.values(id.dmi))}`;
  const known = id.matchedBy === 'none' ? 'an unknown board' : `board ${id.profile.id}`;
  throw dtError(
    'EDGEFLOW_DT_UNKNOWN_BOARD',
    `${known} under ${root} (${seen}) has no overlays here; supported: ${BOARD_IDS.join(', ')} (or pass --board)`,
  );
}

function isLattePanda(id: string): boolean {
  return lattePandaProfiles.some((p) => p.id === id);
}

/**
 * Resolve `--board auto|<id>`. An explicit board that contradicts what the boot root identifies
 * as is refused (EDGEFLOW_DT_BOARD_MISMATCH) unless `force`: overlays for one board enable pins
 * wired to something else on another. A root that identifies as nothing (an image being built,
 * a scratch root) takes the explicit board as given.
 */
export async function resolveBoard(
  board: string,
  root: string,
  fs: FsOps,
  force = false,
): Promise<BoardId> {
  if (board === 'auto') return detectBoard(root, fs);
  const wanted: BoardId | undefined = isBoardId(board)
    ? board
    : isLattePanda(board)
      ? 'lattepanda'
      : undefined;
  if (wanted === undefined)
    throw dtError(
      'EDGEFLOW_DT_UNKNOWN_BOARD',
      `unknown board ${JSON.stringify(board)}; use auto or one of ${BOARD_IDS.join(', ')}`,
    );
  if (force) return wanted;
  const found = await detectBoard(root, fs).catch(() => undefined);
  if (found !== undefined && found !== wanted)
    throw dtError(
      'EDGEFLOW_DT_BOARD_MISMATCH',
      `--board ${board} contradicts the board under ${root}, identified as ${found}: use --board auto, or add --force if the identification is wrong`,
    );
  return wanted;
}
