import { basename, dirname } from 'node:path';
import type { HostFs } from './host-fs.js';
import { hostPath, listDir, readText } from './host-fs.js';
import type { UsbId } from './types.js';

/** A USB serial device (CDC ACM or USB-serial bridge) as sysfs describes it. */
export interface UsbSerialDevice {
  /** Kernel tty name (ttyACM0): it may change after a USB reset, the USB identity does not. */
  readonly tty: string;
  /** Host path of its device node under the configured root. */
  readonly device: string;
  /** A /dev/serial/by-id link to it, when udev made one. */
  readonly byId?: string;
  /** idVendor/idProduct, 4 lowercase hex digits. */
  readonly vid: string;
  readonly pid: string;
  readonly manufacturer?: string;
  readonly product?: string;
  readonly serial?: string;
  /** USB topology path (1-4): the port it is plugged into. */
  readonly usbPath: string;
}

const TTY_RE = /^tty(ACM|USB)\d+$/;

/**
 * Lists USB serial devices under `root`: /sys/class/tty/ttyACM*|ttyUSB* whose `device` link
 * leads to a USB interface; the USB device (idVendor, idProduct, strings) is its parent
 * directory (Linux sysfs ABI: Documentation/ABI/stable/sysfs-bus-usb).
 */
export async function scanUsbSerial(fs: HostFs, root: string): Promise<UsbSerialDevice[]> {
  const byId = new Map<string, string>();
  const byIdDir = hostPath(root, 'dev/serial/by-id');
  for (const name of await listDir(fs, byIdDir)) {
    try {
      byId.set(basename(await fs.realpath(`${byIdDir}/${name}`)), `${byIdDir}/${name}`);
    } catch {
      // a dangling link: the device it named is gone
    }
  }
  const out: UsbSerialDevice[] = [];
  const classDir = hostPath(root, 'sys/class/tty');
  for (const tty of (await listDir(fs, classDir)).filter((t) => TTY_RE.test(t)).sort()) {
    let iface: string;
    try {
      iface = await fs.realpath(`${classDir}/${tty}/device`);
    } catch {
      continue;
    }
    // ttyUSB devices sit one level deeper (…/1-4:1.0/ttyUSB0); walk up to the USB device.
    let dev = dirname(iface);
    for (let i = 0; i < 3 && (await readText(fs, `${dev}/idVendor`)) === undefined; i++)
      dev = dirname(dev);
    const vid = await readText(fs, `${dev}/idVendor`);
    const pid = await readText(fs, `${dev}/idProduct`);
    if (vid === undefined || pid === undefined) continue;
    const [manufacturer, product, serial] = await Promise.all(
      ['manufacturer', 'product', 'serial'].map((f) => readText(fs, `${dev}/${f}`)),
    );
    const link = byId.get(tty);
    out.push({
      tty,
      device: hostPath(root, `dev/${tty}`),
      ...(link === undefined ? {} : { byId: link }),
      vid: vid.toLowerCase(),
      pid: pid.toLowerCase(),
      ...(manufacturer === undefined ? {} : { manufacturer }),
      ...(product === undefined ? {} : { product }),
      ...(serial === undefined ? {} : { serial }),
      usbPath: basename(dev),
    });
  }
  return out;
}

/** The first device matching one of `ids`, in the order of `ids` (most likely first). */
export function findUsbSerial(
  devices: readonly UsbSerialDevice[],
  ids: readonly UsbId[],
): { device: UsbSerialDevice; id: UsbId } | undefined {
  for (const id of ids) {
    const d = devices.find((x) => x.vid === id.vid.toLowerCase() && x.pid === id.pid.toLowerCase());
    if (d) return { device: d, id };
  }
  return undefined;
}
