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
 * The shared link to the board's co-processor, or undefined on a board without one. The link
 * looks the device up before every connect: by its USB VID:PID (and serial number, when
 * detection saw one) under the configured root, since a re-enumerated CDC device can come back
 * as ttyACM1. A co-processor that detection did not find (still enumerating at boot) gets a
 * link all the same: its users get MCU_NOT_FOUND until it is on USB, and work once it is.
 * While the link is down after a failure, the last failure is thrown.
 */
export function boardLink(
  board: DetectedBoard,
  registry: FirmataLinkRegistry,
  o: BoardLinkOptions,
): (() => Promise<FirmataLink>) | undefined {
  const want = board.profile.coprocessor;
  if (!want) return undefined;
  const co = board.coprocessor;
  const fs = o.fs ?? nodeHostFs;
  const locate = async (): Promise<string> => {
    if (o.device !== undefined) return o.device;
    const all = await scanUsbSerial(fs, o.root);
    const serial = co?.usb.serial;
    const same = all.find(
      (d) => serial !== undefined && d.serial === serial && d.vid === co?.usb.vid,
    );
    const hit = same ?? findUsbSerial(all, want.usb)?.device;
    if (!hit) {
      const ids = co
        ? `${co.usb.vid}:${co.usb.pid}`
        : want.usb.map((u) => `${u.vid}:${u.pid}`).join(' or ');
      throw new HalError(
        'EDGEFLOW_HAL_MCU_NOT_FOUND',
        `the ${want.mcu} co-processor (USB ${ids}) is not on USB now (USB serial devices: ${all.map((d) => `${d.tty} ${d.vid}:${d.pid}`).join(', ') || 'none'})`,
        { details: co ? { device: co.device } : {} },
      );
    }
    return hit.byId ?? hit.device;
  };
  const [major = 2, minor = 3] = (o.minProtocol ?? '2.3').split('.').map(Number);
  // One link per device for the whole process (the Hal's users share it).
  const key = co
    ? `${co.usb.vid}:${co.usb.pid}@${co.usb.usbPath}`
    : `${board.profile.id}:coprocessor`;
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
