import { boardEntryMatches, identifyBoard, matchProfile, profileById } from '@edgeflow/hal';
import { OtaError } from './errors.js';

/**
 * This device's board in the one vocabulary of EdgeFlow: the HAL profile id (`rpi5`,
 * `jetson-orin-nano`, ...) and the device-tree compatible strings a manifest's patterns are
 * matched against (`nvidia,p3768-0000+p3767-*` covers every Orin Nano/NX SKU).
 */
export interface OtaBoard {
  readonly id: string;
  readonly compatible: readonly string[];
}

/**
 * `--board auto` (the default) identifies the board under the system root with the HAL's
 * detection; `--board rpi5` names a profile (its compatible patterns stand in for the
 * device's); a value with a comma is a compatible string (`raspberrypi,5-model-b`, as boards
 * were named before profile ids).
 */
export async function resolveOtaBoard(value: string, systemRoot: string): Promise<OtaBoard> {
  if (value === 'auto') {
    const id = await identifyBoard(systemRoot);
    if (id.matchedBy === 'none') {
      throw new OtaError(
        'EDGEFLOW_OTA_WRONG_BOARD',
        `cannot identify the board under ${systemRoot} (${id.compatible.length > 0 ? `compatible ${JSON.stringify(id.compatible)}` : 'no /proc/device-tree/compatible, no known DMI'}); pass --board <profile id>`,
      );
    }
    return { id: id.profile.id, compatible: id.compatible };
  }
  if (value.includes(',')) {
    return { id: matchProfile([value], {}).profile.id, compatible: [value] };
  }
  // A profile id brings its compatible patterns; any other id (a test board, `generic`, `sim`)
  // is matched by name only.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
    throw new OtaError(
      'EDGEFLOW_OTA_USAGE',
      `--board ${JSON.stringify(value)} is not a board profile id (rpi5, jetson-orin-nano, rock-5b, ...), a compatible string or auto`,
    );
  }
  return { id: value, compatible: profileById(value)?.compatible ?? [] };
}

/** Whether a manifest's `boards` list names this board (`*`, a profile id, or a pattern). */
export function manifestFitsBoard(boards: readonly string[], board: OtaBoard): boolean {
  return boards.some((entry) => boardEntryMatches(entry, board));
}
