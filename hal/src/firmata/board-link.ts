import type { DetectedBoard } from '../board/detect.js';
import type { HostFs } from '../board/host-fs.js';
import { nodeHostFs } from '../board/host-fs.js';
import { findUsbSerial, scanUsbSerial } from '../board/usb-serial.js';
import { HalError } from '../errors.js';
import type { FirmataLinkOptions } from './link.js';
import { FirmataLink } from './link.js';
import type { FirmataLinkRegistry } from './registry.js';

/** How the board's co-processor link is made (hal.firmata plus injected world access). */
export interface BoardLinkOptions {
  readonly root: string;
  readonly fs?: HostFs;
  /** hal.firmata.device: used as given instead of the USB search. */
  readonly device?: string;
  /** hal.firmata.minProtocol ("2.3"). */
  readonly minProtocol?: string;
  readonly handshakeTimeoutMs?: number;
  /** Everything else a link takes (serial opener, clocks, backoff), for tests. */
  readonly link?: Partial<FirmataLinkOptions>;
}

/**
 * The shared link to the detected board's co-processor, or undefined on a board without one.
 * The link looks the device up again before every reconnect: by its USB VID:PID (and serial
 * number, when it has one) under the configured root, since a re-enumerated CDC device can
 * come back as ttyACM1. While the link is down after a failure, the last failure is thrown.
 */
export function boardLink(
  board: DetectedBoard,
  registry: FirmataLinkRegistry,
  o: BoardLinkOptions,
): (() => Promise<FirmataLink>) | undefined {
  const co = board.coprocessor;
  const ids = board.profile.coprocessor?.usb;
  if (!co || !ids) return undefined;
  const fs = o.fs ?? nodeHostFs;
  const locate = async (): Promise<string> => {
    if (o.device !== undefined) return o.device;
    const all = await scanUsbSerial(fs, o.root);
    const same = all.find(
      (d) => co.usb.serial !== undefined && d.serial === co.usb.serial && d.vid === co.usb.vid,
    );
    const hit = same ?? findUsbSerial(all, ids)?.device;
    if (!hit) {
      throw new HalError(
        'EDGEFLOW_HAL_MCU_NOT_FOUND',
        `the ${co.mcu} co-processor (USB ${co.usb.vid}:${co.usb.pid}) is not on USB now`,
        { details: { device: co.device } },
      );
    }
    return hit.byId ?? hit.device;
  };
  const [major = 2, minor = 3] = (o.minProtocol ?? '2.3').split('.').map(Number);
  const key = `${co.usb.vid}:${co.usb.pid}@${co.usb.usbPath}`;
  return async () => {
    const link = registry.get(
      key,
      () =>
        new FirmataLink({
          locate,
          minProtocol: [major, minor],
          ...(o.handshakeTimeoutMs === undefined
            ? {}
            : { handshakeTimeoutMs: o.handshakeTimeoutMs }),
          ...o.link,
        }),
    );
    // After a failed attempt the link retries on its own, with backoff; a user asking meanwhile
    // gets why it failed instead of a fresh attempt (each one a full handshake timeout on a
    // board that does not answer: GPIO lines requested one after the other at start-up).
    const failed = link.state === 'down' ? link.lastError : undefined;
    if (failed !== undefined) throw failed;
    await link.connect();
    return link;
  };
}
