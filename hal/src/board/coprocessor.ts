import { resolve } from 'node:path';
import type { ScanNote } from './chips.js';
import type { HostFs } from './host-fs.js';
import type { BoardProfile, Coprocessor, UsbId } from './types.js';
import type { UsbSerialDevice } from './usb-serial.js';
import { findUsbSerial, scanUsbSerial } from './usb-serial.js';

/** The board's GPIO co-processor as found on USB. */
export interface DetectedCoprocessor {
  readonly mcu: Coprocessor['mcu'];
  readonly protocol: Coprocessor['protocol'];
  /** The USB id it matched. */
  readonly id: UsbId;
  readonly usb: UsbSerialDevice;
  /** The serial device to open: the by-id link when udev made one (stable across resets). */
  readonly device: string;
}

function ids(c: Coprocessor): string {
  return c.usb.map((u) => `${u.vid}:${u.pid}`).join(' or ');
}

/**
 * Finds the profile's co-processor among the USB serial devices under `root` by its VID:PID.
 * `device` overrides the search (hal.firmata.device): it is used as given.
 */
export async function detectCoprocessor(
  profile: BoardProfile,
  fs: HostFs,
  root: string,
  device?: string,
): Promise<{ found?: DetectedCoprocessor; missing?: ScanNote }> {
  const c = profile.coprocessor;
  if (!c) return {};
  const all = await scanUsbSerial(fs, root);
  if (device !== undefined) return { found: await configuredDevice(c, all, device, fs) };
  const hit = findUsbSerial(all, c.usb);
  if (!hit) {
    const seen = all.map((d) => `${d.tty} ${d.vid}:${d.pid}`).join(', ') || 'none';
    return {
      missing: {
        what: `co-processor ${c.mcu} (USB ${ids(c)})`,
        why: `not on USB (USB serial devices: ${seen}): header GPIO, its I2C and analog inputs are unavailable; set hal.firmata.device if it enumerates with another id`,
      },
    };
  }
  return {
    found: {
      mcu: c.mcu,
      protocol: c.protocol,
      id: hit.id,
      usb: hit.device,
      device: hit.device.byId ?? hit.device.device,
    },
  };
}

/**
 * The co-processor at a configured device: described by the USB serial device it is (matched by
 * path, by-id link or the node a link leads to), never by another device that merely has the
 * expected VID:PID; a device that is no USB serial device has no USB identity ('?').
 */
async function configuredDevice(
  c: Coprocessor,
  all: readonly UsbSerialDevice[],
  device: string,
  fs: HostFs,
): Promise<DetectedCoprocessor> {
  const real = await fs.realpath(device).catch(() => resolve(device));
  const is = (p: string | undefined): boolean =>
    p !== undefined && (resolve(p) === resolve(device) || resolve(p) === real);
  const usb = all.find((d) => is(d.device) || is(d.byId));
  const known = usb && c.usb.find((u) => u.vid === usb.vid && u.pid === usb.pid);
  const id: UsbId = known ?? {
    vid: usb?.vid ?? '?',
    pid: usb?.pid ?? '?',
    name: usb?.product ?? 'configured device',
  };
  const fallback: UsbSerialDevice = { tty: device, device, vid: '?', pid: '?', usbPath: '?' };
  return { mcu: c.mcu, protocol: c.protocol, id, usb: usb ?? fallback, device };
}
