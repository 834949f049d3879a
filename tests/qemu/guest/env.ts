// What the in-guest tests share: the gpio-sim banks the init script created, the
// i2c-stub bus, and the parts of @edgeflow/hal's test suite they run. These files run
// only inside the QEMU guest (tests/qemu/guest/init), never on the host.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { DetectedBoard } from '@edgeflow/hal';
import { detectBoard, loadCdevBinding } from '@edgeflow/hal';
import type { PadDriver, gpioChipContract } from '../../../hal/test/gpio/contract.js';

/** hal/dist/test/gpio/contract.js, found next to the package the guest resolves. */
export async function loadContract(): Promise<typeof gpioChipContract> {
  const url = new URL('../test/gpio/contract.js', import.meta.resolve('@edgeflow/hal'));
  const mod = (await import(url.href)) as { gpioChipContract: typeof gpioChipContract };
  return mod.gpioChipContract;
}

/** Detects the guest as the CLI and createHal do (chip labels through the addon's ioctl). */
export async function detectGuest(): Promise<DetectedBoard> {
  const cdev = loadCdevBinding();
  if (!cdev.ok) throw new Error(`the cdev addon does not load in the guest: ${cdev.reason}`);
  return detectBoard({ root: '/' }, { cdevInfo: (path) => cdev.binding.chipInfo(path) });
}

const configfs = process.env.EDGEFLOW_GPIO_SIM_CONFIGFS ?? '/sys/kernel/config/gpio-sim/edgeflow';

function read(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

/** A gpio-sim bank: its label and the sysfs directory of its simulated pads. */
export interface SimBank {
  readonly label: string;
  readonly padsDir: string;
}

/** The bank the init script created as `bank<n>`. */
export function simBank(n: number): SimBank {
  const dev = read(`${configfs}/dev_name`);
  const chip = read(`${configfs}/bank${n}/chip_name`);
  return {
    label: read(`${configfs}/bank${n}/label`),
    padsDir: `/sys/devices/platform/${dev}/${chip}`,
  };
}

/**
 * Drives gpio-sim pads through sysfs: a level is the pad's pull (gpio-sim pads are
 * never floating, so "undriven" is its default pull-down; a requested bias overrides it).
 */
export function gpioSimPads(bank: SimBank): PadDriver {
  return {
    drive: (offset, level) => {
      const pull = level === 1 ? 'pull-up' : 'pull-down';
      writeFileSync(`${bank.padsDir}/sim_gpio${offset}/pull`, pull);
    },
    level: (offset) => Number(read(`${bank.padsDir}/sim_gpio${offset}/value`)),
  };
}

/** Whether the running kernel was built with this option (=y or =m). */
export function kernelHas(option: string): boolean {
  const path = process.env.EDGEFLOW_KERNEL_CONFIG ?? '/etc/kernel-config';
  if (!existsSync(path)) return false;
  return new RegExp(`^${option}=[ym]$`, 'm').test(readFileSync(path, 'utf8'));
}

/** The bus number of the i2c-stub adapter (/sys/class/i2c-adapter/i2c-N/name). */
export function stubBus(): number {
  for (const name of readdirSync('/sys/class/i2c-adapter')) {
    if (read(`/sys/class/i2c-adapter/${name}/name`).includes('stub')) {
      return Number(name.slice('i2c-'.length));
    }
  }
  throw new Error('no i2c-stub adapter: is i2c-stub loaded?');
}

/** Addresses the init script gave i2c-stub. */
export const STUB = { scratch: 0x10, ina219: 0x40, sht3x: 0x44, ads1115: 0x48, bme280: 0x76 };

/** Drivers sleep between command and result; the stub answers at once. */
export const noSleep = { sleep: (): Promise<void> => Promise.resolve() };
