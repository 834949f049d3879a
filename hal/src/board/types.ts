/** How the board's bootloader takes device-tree overlays (device-trees package uses it). */
export type BootLayout = 'rpi-config-txt' | 'armbian-env' | 'jetson-extlinux' | 'none';

/** GPIO backends, in the order the HAL prefers them. */
export type GpioBackendName = 'cdev' | 'sysfs' | 'sim' | 'firmata';

/** One usable header pin: physical number, names, and the line behind it. */
export interface HeaderPin {
  /**
   * Physical pin number on the header (1-40, or 1-26 on Orange Pi 5); on co-processor
   * headers labelled by Arduino name (LattePanda) it is the Arduino/Firmata pin number.
   */
  readonly pin: number;
  /** Primary name as printed in the vendor pinout (GPIO17, GPIO4_B3, PQ.05). */
  readonly name: string;
  /** Other accepted names (BCM-style aliases, SoC pad names). */
  readonly aliases?: readonly string[];
  /** Label of the gpiochip that owns the line: chips are found by label, never by number. */
  readonly chip: string;
  /** Line offset within that chip. */
  readonly line: number;
}

/** A jumper wire between two header pins, used to loop an output back into an input. */
export interface HeaderJumper {
  /** Physical pin driven as an output. */
  readonly out: number;
  /** Physical pin read back as an input. */
  readonly in: number;
}

/** An I2C bus routed to the header. */
export interface HeaderI2cBus {
  /** Name in the vendor docs (i2c1, I2C5). */
  readonly name: string;
  /** Header pins [SDA, SCL]. */
  readonly pins: readonly [number, number];
  /** The /dev/i2c-N number the vendor image gives this bus. */
  readonly bus: number;
  /** What must be enabled for it to appear (overlay, dtparam); empty when on by default. */
  readonly enable?: string;
  /**
   * Not meant for sensors (e.g. the Pi's HAT EEPROM bus, off on a stock image): its absence is
   * reported as a note, never as a defect.
   */
  readonly optional?: boolean;
  /**
   * Reached through the board's co-processor (Firmata I2C messages) instead of /dev/i2c-N;
   * `bus` is then the number the HAL gives it (FIRMATA_I2C_BUS), not a kernel adapter.
   */
  readonly via?: 'firmata';
}

/** A USB identity of a co-processor (hex, as in /sys/bus/usb/devices/<dev>/idVendor). */
export interface UsbId {
  readonly vid: string;
  readonly pid: string;
  /** What enumerates with this id (for messages: "LattePanda Leonardo"). */
  readonly name: string;
}

/**
 * A microcontroller on the board that owns the header GPIO (LattePanda: an ATmega32U4 or an
 * RP2040 on USB), reached over USB CDC serial running Firmata.
 */
export interface Coprocessor {
  readonly mcu: 'atmega32u4' | 'rp2040' | 'atmega328p';
  /** USB ids it enumerates with, most likely first; detection finds its tty by these. */
  readonly usb: readonly UsbId[];
  readonly protocol: 'firmata';
  /** Firmata firmware the vendor ships or documents (shown by `hal detect`). */
  readonly firmware: string;
}

/**
 * Whether the profile's facts (identification strings, USB ids, chip labels, pin map, bus
 * numbers) were checked on the real board. `hal detect` prints an unverified profile as such
 * with `note`: what is assumed and where it comes from, so that a user of that board knows to
 * check it and to report what differs.
 */
export interface HardwareCheck {
  readonly verified: boolean;
  readonly note: string;
}

/** Where a TPM 2.0 is expected on this board. */
export interface TpmExpectation {
  readonly kind: 'spi-module' | 'firmware' | 'none' | 'simulated';
  /** Device node the agent opens when present. */
  readonly device: string;
  readonly note: string;
}

/** A board profile: pure data, matched against what the kernel exposes. */
export interface BoardProfile {
  readonly id: string;
  readonly name: string;
  readonly family: 'raspberry-pi' | 'jetson' | 'rockchip' | 'x86' | 'generic' | 'sim' | 'usb-mcu';
  /** Device-tree compatible patterns (`*` wildcard), any of which selects the profile. */
  readonly compatible: readonly string[];
  /** DMI match on x86 (all given fields must match, case-insensitive substring). */
  readonly dmi?: { readonly boardVendor?: string; readonly productName?: string };
  readonly header: readonly HeaderPin[];
  readonly i2c: readonly HeaderI2cBus[];
  readonly bootLayout: BootLayout;
  readonly tpm: TpmExpectation;
  /**
   * Header pins joined by a jumper wire as the board is delivered (only the simulator has one;
   * on hardware jumpers are declared per run, e.g. EdgeReady's `--gpio-loopback OUT:IN`).
   */
  readonly jumpers?: readonly HeaderJumper[];
  /** The GPIO co-processor, on boards whose header pins are not on the SoC. */
  readonly coprocessor?: Coprocessor;
  /** Free-text facts that explain quirks (sysfs renumbering, missing sysfs, ...). */
  readonly notes: readonly string[];
  /** Checked on the real board or not; absent on profiles with no board behind them (generic, sim). */
  readonly hardware?: HardwareCheck;
}
