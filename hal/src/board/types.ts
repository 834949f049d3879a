/** How the board's bootloader takes device-tree overlays (device-trees package uses it). */
export type BootLayout = 'rpi-config-txt' | 'armbian-env' | 'jetson-extlinux' | 'none';

/** GPIO backends, in the order the HAL prefers them. */
export type GpioBackendName = 'cdev' | 'sysfs' | 'sim' | 'firmata';

/** One usable header pin: physical number, names, and the line behind it. */
export interface HeaderPin {
  /** Physical pin number on the header (1-40, or 1-26 on Orange Pi 5). */
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
  readonly family: 'raspberry-pi' | 'jetson' | 'rockchip' | 'x86' | 'generic' | 'sim';
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
  /** Free-text facts that explain quirks (sysfs renumbering, missing sysfs, ...). */
  readonly notes: readonly string[];
}
