// A host root for the emulated Firmata board: a board profile shaped like the LattePanda ones
// (header on a Firmata co-processor, its I2C as bus 100) but with the emulated MCU's pins (an
// ATmega328P: Arduino Uno numbering), and a sysfs tree in which that MCU is on USB with the
// Uno's id, its tty node a link to the rig's pty. detectBoard, createHal, the CLI and
// EdgeReady then find it the way they find a LattePanda's 32U4.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoardProfile, HeaderPin } from '../../src/board/types.js';

/** USB id of an Arduino Uno (R3): the emulated MCU enumerates "as" one. */
export const EMULATED_USB = { vid: '2341', pid: '0043', name: 'Arduino Uno (emulated)' } as const;

const pins: HeaderPin[] = [
  ...Array.from({ length: 12 }, (_, i) => ({
    pin: i + 2,
    name: `D${i + 2}`,
    chip: 'firmata',
    line: i + 2,
  })),
  // A0-A5 are digital 14-19 on the Uno; A4/A5 are also SDA/SCL.
  ...Array.from({ length: 6 }, (_, a) => ({
    pin: 14 + a,
    name: `A${a}`,
    aliases: a === 4 ? ['SDA'] : a === 5 ? ['SCL'] : [],
    chip: 'firmata',
    line: 14 + a,
  })),
];

/** The test profile: matched by DMI vendor "EdgeFlow test rig". */
export const emulatedBoardProfile: BoardProfile = {
  id: 'emulated-firmata-board',
  name: 'Emulated Firmata board (simavr ATmega328P)',
  family: 'usb-mcu',
  compatible: [],
  dmi: { boardVendor: 'EdgeFlow test rig' },
  header: pins,
  i2c: [{ name: 'co-processor I2C (A4 SDA / A5 SCL)', pins: [18, 19], bus: 100, via: 'firmata' }],
  bootLayout: 'none',
  tpm: { kind: 'none', device: '/dev/tpmrm0', note: 'none on the rig' },
  coprocessor: {
    mcu: 'atmega328p',
    usb: [EMULATED_USB],
    protocol: 'firmata',
    firmware: 'StandardFirmata 2.4 (avrgirl-arduino)',
  },
  notes: ['test rig: simavr running StandardFirmata, its UART on a pty'],
};

/** A temporary host root whose USB serial device is the rig's pty; remove() deletes it. */
export function emulatedRoot(device: string): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'emulated-root-'));
  const usb = join(root, 'sys/devices/pci0000:00/0000:00:14.0/usb1/1-2');
  mkdirSync(join(usb, '1-2:1.0/tty/ttyACM0'), { recursive: true });
  writeFileSync(join(usb, 'idVendor'), `${EMULATED_USB.vid}\n`);
  writeFileSync(join(usb, 'idProduct'), `${EMULATED_USB.pid}\n`);
  writeFileSync(join(usb, 'product'), 'Arduino Uno\n');
  symlinkSync('../../../1-2:1.0', join(usb, '1-2:1.0/tty/ttyACM0/device'));
  mkdirSync(join(root, 'sys/class/tty'), { recursive: true });
  symlinkSync(
    '../../devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/ttyACM0',
    join(root, 'sys/class/tty/ttyACM0'),
  );
  mkdirSync(join(root, 'sys/class/dmi/id'), { recursive: true });
  writeFileSync(join(root, 'sys/class/dmi/id/board_vendor'), 'EdgeFlow test rig\n');
  writeFileSync(join(root, 'sys/class/dmi/id/product_name'), 'simavr ATmega328P\n');
  mkdirSync(join(root, 'dev'), { recursive: true });
  symlinkSync(device, join(root, 'dev/ttyACM0'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
