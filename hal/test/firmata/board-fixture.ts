// Shared setup of the emulator tests: one emulated board (and one link to it) per test file.
import { FirmataLink } from '../../src/firmata/link.js';
import type { FirmataLinkOptions } from '../../src/firmata/link.js';
import type { FirmwareName } from '../helpers/firmata-board.js';
import { FirmataBoard, missingBoardPrerequisites } from '../helpers/firmata-board.js';

/**
 * Why the emulator tests cannot run here, or undefined. In CI a missing prerequisite is a
 * failure (install-deps.sh installs them), elsewhere the tests are skipped with the reason.
 */
export function emulatorSkipReason(): string | undefined {
  const missing = missingBoardPrerequisites();
  if (missing.length === 0) return undefined;
  const msg = `the emulated Firmata board needs ${missing.join(', ')} (bash scripts/install-deps.sh as root)`;
  if (process.env.CI === 'true') throw new Error(`CI must run the Firmata emulator tests: ${msg}`);
  return msg;
}

/** Quick reconnects: the tests unplug the board on purpose. */
export const FAST_RECONNECT = { minMs: 50, maxMs: 500, factor: 2, jitter: 0 } as const;

/** A started board with a connected link. */
export interface BoardAndLink {
  readonly board: FirmataBoard;
  readonly link: FirmataLink;
}

export async function startBoardAndLink(
  firmware: FirmwareName = 'standard',
  options: Partial<FirmataLinkOptions> = {},
): Promise<BoardAndLink> {
  const board = await FirmataBoard.start(firmware);
  const link = new FirmataLink({
    locate: () => Promise.resolve(board.device),
    reconnect: FAST_RECONNECT,
    ...options,
  });
  try {
    await link.connect();
  } catch (err) {
    await link.close();
    await board.stop();
    throw err;
  }
  return { board, link };
}

export async function stopBoardAndLink(b: BoardAndLink | undefined): Promise<void> {
  if (!b) return;
  await b.link.close();
  await b.board.stop();
}
