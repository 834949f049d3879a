import { HalError } from '../errors.js';
import type { DetectedBoard } from './detect.js';

/**
 * The error for an I2C bus number the host does not expose (no `/dev/i2c-N` under the root):
 * names the buses that do exist and, when the profile routes that bus to the header, how to
 * enable it. A scan of a missing bus must fail: "no devices" would hide a disabled bus.
 */
export function busNotFound(board: DetectedBoard, bus: number): HalError {
  const present = board.i2c.map((a) => a.bus);
  const header = board.profile.i2c.find((b) => b.bus === bus);
  const enable = header?.enable
    ? `; it is the header's ${header.name}: enable it with ${header.enable}`
    : '';
  const others =
    present.length === 0 ? 'no I2C bus is visible' : `buses present: ${present.join(', ')}`;
  return new HalError(
    'EDGEFLOW_HAL_BUS_NOT_FOUND',
    `i2c-${bus}: ${board.profile.id === 'sim' ? 'the simulator has no such bus' : `/dev/i2c-${bus} does not exist`} (${others})${enable}`,
    { details: { bus } },
  );
}

/** What a recognised board lacks that the agent would use, for one warning at start. */
export interface DeviceGaps {
  /** One line per missing device: GPIO interface, header chips, header I2C buses. */
  readonly missing: readonly string[];
  /** Configured sensor ids whose bus is absent: polled with backoff until the bus appears. */
  readonly waitingSensors: readonly string[];
}

/**
 * Devices a recognised board should show but does not: typically the agent runs without the
 * hardware drop-in (PrivateDevices=yes hides /dev), or a bus is not enabled in the boot config.
 * Notes the profile marks optional (the Pi's HAT EEPROM bus) and the TPM (reported by
 * attestation) are left out. Empty for the simulator and for an unrecognised host.
 */
export function deviceGaps(
  board: DetectedBoard,
  sensors: readonly { readonly id: string; readonly bus: number }[],
): DeviceGaps {
  if (board.profile.id === 'sim' || board.matchedBy === 'none') {
    return { missing: [], waitingSensors: [] };
  }
  const missing = board.missing
    .filter((n) => !n.why.includes('(optional') && !n.what.startsWith('TPM'))
    .map((n) => `${n.what}: ${n.why}`);
  const present = new Set(board.i2c.map((a) => a.bus));
  const waitingSensors = sensors.filter((s) => !present.has(s.bus)).map((s) => s.id);
  for (const s of sensors) {
    if (!present.has(s.bus) && !board.profile.i2c.some((b) => b.bus === s.bus)) {
      missing.push(`/dev/i2c-${s.bus} (sensor ${s.id}): absent`);
    }
  }
  return { missing, waitingSensors };
}
