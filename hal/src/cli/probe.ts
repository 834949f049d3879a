import type { DetectedBoard } from '../board/detect.js';
import { HalError } from '../errors.js';
import { boardLink } from '../firmata/board-link.js';
import type { FirmwareInfo } from '../firmata/handshake.js';
import { FirmataLinkRegistry } from '../firmata/registry.js';
import { PinMode } from '../firmata/protocol.js';
import type { HalDeps } from '../poller/hal.js';

/** What `hal detect` learnt by talking to the co-processor. */
export type FirmwareProbe =
  | { readonly ok: true; readonly device: string; readonly firmware: FirmwareInfo }
  | { readonly ok: false; readonly device: string; readonly error: HalError };

/**
 * Opens the co-processor's link once (REPORT_VERSION, REPORT_FIRMWARE, capability query) and
 * closes it again. Fails soft: a busy device (the agent holds it) or a wrong firmware is
 * reported, not thrown.
 */
export async function probeFirmware(
  board: DetectedBoard,
  root: string,
  deps: HalDeps,
  options: { device?: string | undefined; minProtocol?: string | undefined } = {},
): Promise<FirmwareProbe | undefined> {
  const registry = new FirmataLinkRegistry();
  const open = boardLink(board, registry, {
    root,
    ...(deps.fs ? { fs: deps.fs } : {}),
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.minProtocol === undefined ? {} : { minProtocol: options.minProtocol }),
    ...(deps.firmataLink ? { link: deps.firmataLink } : {}),
  });
  if (!open) return undefined;
  const device = board.coprocessor?.device ?? '?';
  try {
    const link = await open();
    if (!link.firmware) throw new Error('connected without firmware information');
    return { ok: true, device: link.device, firmware: link.firmware };
  } catch (err) {
    const error =
      err instanceof HalError
        ? err
        : new HalError('EDGEFLOW_HAL_FIRMATA_LINK_DOWN', String(err), { cause: err });
    return { ok: false, device, error };
  } finally {
    await registry.closeAll();
  }
}

/** One line about the firmware: name, versions, pins, I2C and analog pins. */
export function describeFirmware(f: FirmwareInfo): string {
  const withMode = (mode: number): number[] =>
    f.capabilities.flatMap((c, pin) => (c.has(mode) ? [pin] : []));
  const i2c = withMode(PinMode.I2C);
  const analog = f.analogChannels.flatMap((c, pin) => (c === undefined ? [] : [`${pin}=A${c}`]));
  const digital = withMode(PinMode.OUTPUT).length;
  return (
    `${f.name} ${f.version} (Firmata protocol ${f.protocol}): ${f.capabilities.length} pins, ` +
    `${digital} digital, I2C on ${i2c.length > 0 ? i2c.join('/') : 'none'}, analog ${analog.join(' ') || 'none'}`
  );
}
