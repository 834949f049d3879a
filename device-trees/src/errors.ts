import { createErrorClass } from '@edgeflow/core';

/**
 * Error codes of @edgeflow/device-trees. docs/errors.md is generated from this catalog
 * (scripts/gen-error-docs.mjs); every code says what it means and what the user should do.
 */
export const errorCatalog = {
  EDGEFLOW_DT_DTC_FAILED:
    'An overlay source did not compile with `dtc -@` (warnings count as errors). The message quotes dtc with the file and line: fix the .dts there and build again.',
  EDGEFLOW_DT_DTC_MISSING:
    'The device-tree compiler (dtc, fdtoverlay, fdtget) is not installed. Install it with `apt-get install device-tree-compiler` (scripts/install-deps.sh does this).',
  EDGEFLOW_DT_WRONG_BOARD:
    'The overlay was built for another board (its root `compatible` does not match this board). Use the overlay of your board: `edgeflow dt list --board <id>` shows them.',
  EDGEFLOW_DT_UNKNOWN_OVERLAY:
    'No overlay with that name exists for this board. `edgeflow dt list` shows the overlays available for the detected board.',
  EDGEFLOW_DT_BOOT_MISSING:
    'The boot partition or boot configuration file was not found under the boot root. Mount the boot partition (e.g. /boot/firmware on Raspberry Pi OS) or pass --boot-root.',
  EDGEFLOW_DT_BOOT_READONLY:
    'The boot partition (or the EdgeFlow state directory) is read-only. Remount it read-write (`mount -o remount,rw /boot/firmware`) and run the command again; nothing was changed.',
  EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE:
    'The boot configuration contains syntax the installer does not understand, so it refuses to edit it rather than guess. Fix or simplify the line quoted in the message, or edit the file by hand.',
  EDGEFLOW_DT_UNKNOWN_BOARD:
    'The board could not be identified (or is not supported). Pass --board with one of the ids listed by `edgeflow dt list --board help`.',
  EDGEFLOW_DT_NO_DEVICE_TREE:
    "This board boots with ACPI, not a device tree (LattePanda is x86): there is nothing to install. Sensors and GPIO there go through the board's co-processor or USB adapters.",
  EDGEFLOW_DT_NO_BACKUP:
    'There is no backup to roll back to: no install or remove has been done through `edgeflow dt` under this boot root.',
  EDGEFLOW_DT_IO:
    'A file operation on the boot partition failed. The message names the file; nothing was left half-written (writes are atomic), but check free space and the filesystem.',
  EDGEFLOW_DT_USAGE: 'The command line was not understood. Run `edgeflow dt --help`.',
  EDGEFLOW_DT_UNSAFE_PATH:
    'A directory or file `edgeflow dt` would read or write under the boot root (or its backup directory) is a symlink, not a plain directory or file, or can be changed by a user other than root. It is never followed or written through; the message names it. Check who made it (`ls -la`), restore a plain directory or file, and run again.',
  EDGEFLOW_DT_BAD_BACKUP:
    'The newest backup is damaged or names a file `edgeflow dt` does not manage on this board (only the boot config and edgeflow-*.dtbo overlays are ever restored). Nothing was rolled back; inspect the backup directory named in the message and remove it.',
  EDGEFLOW_DT_BOOT_CONFIG_ENCODING:
    'The boot configuration mixes LF and CRLF line endings, so the installer cannot tell which its own lines should use. Convert it to one (`dos2unix FILE` or `unix2dos FILE`) and run again; nothing was changed. Other bytes are kept exactly as they are.',
  EDGEFLOW_DT_OVERLAY_STILL_ENABLED:
    'The boot configuration enables the overlay on a line outside the EdgeFlow block, so `remove` would delete a .dtbo that the bootloader still loads. Delete the line the message names by hand, then run `edgeflow dt remove` again; nothing was changed.',
  EDGEFLOW_DT_BOARD_MISMATCH:
    'The --board given contradicts the board the boot root identifies as (/proc/device-tree/compatible or DMI). Use `--board auto`; if the identification is wrong, add `--force`.',
} as const;

/** One of the stable error codes of this package. */
export type DtErrorCode = keyof typeof errorCatalog;

/**
 * The error every device-trees operation throws on expected failures (core's factory: branded,
 * so `instanceof` works across copies of the package).
 */
export class DtError extends createErrorClass('DtError', errorCatalog) {}

/** Shorthand used across the package. */
export function dtError(code: DtErrorCode, message: string, cause?: unknown): DtError {
  return cause === undefined ? new DtError(code, message) : new DtError(code, message, { cause });
}
