import type { BoardProfile, HeaderPin } from '../types.js';

// RK3588 pads are named GPIO<bank>_<letter><n>: chip label `gpio<bank>` (32
// lines each) and line = letter index x 8 + n, e.g. GPIO4_B3 -> gpio4 line 11.
// Vendor (BSP) kernels number sysfs GPIO bank x 32 + line from 0, mainline from
// 512 up: only label + offset is the same on both.
function pad(name: string): { chip: string; line: number } {
  const m = /^GPIO([0-4])_([A-D])([0-7])$/.exec(name);
  if (!m) throw new Error(`bad RK3588 pad name ${name}`);
  const letter = 'ABCD'.indexOf(m[2] ?? 'A');
  return { chip: `gpio${m[1]}`, line: letter * 8 + Number(m[3]) };
}

function header(rows: ReadonlyArray<readonly [number, string, string?]>): HeaderPin[] {
  return rows.map(([pin, padName, fn]) => ({
    pin,
    name: padName,
    ...(fn === undefined ? {} : { aliases: [fn] }),
    ...pad(padName),
  }));
}

const rockTpm = {
  kind: 'spi-module',
  device: '/dev/tpmrm0',
  note: 'SPI TPM module on the header, enabled with an SPI TPM overlay in armbianEnv.txt',
} as const;

/** Radxa ROCK 5B (RK3588), pinout per Radxa's wiringX port. */
export const rock5b: BoardProfile = {
  id: 'rock-5b',
  name: 'Radxa ROCK 5B',
  family: 'rockchip',
  compatible: ['radxa,rock-5b'],
  header: header([
    [3, 'GPIO4_B3'],
    [5, 'GPIO4_B2'],
    [7, 'GPIO3_C3'],
    [8, 'GPIO0_B5'],
    [10, 'GPIO0_B6'],
    [11, 'GPIO3_C1'],
    [12, 'GPIO3_B5'],
    [13, 'GPIO3_B7'],
    [15, 'GPIO3_C0'],
    [16, 'GPIO3_A4'],
    [18, 'GPIO4_C4'],
    [19, 'GPIO1_B2'],
    [21, 'GPIO1_B1'],
    [23, 'GPIO1_B3'],
    [24, 'GPIO1_B4'],
    [26, 'GPIO1_B5'],
    [27, 'GPIO4_C6'],
    [28, 'GPIO4_C5'],
    [29, 'GPIO1_D7'],
    [31, 'GPIO1_B7'],
    [32, 'GPIO3_C2'],
    [33, 'GPIO3_A7'],
    [35, 'GPIO3_B6'],
    [36, 'GPIO3_B1'],
    [38, 'GPIO3_B2'],
    [40, 'GPIO3_B3'],
  ]),
  // Which controller reaches pins 3/5 depends on the overlay the image enables.
  i2c: [
    {
      name: 'I2C7 (M3)',
      pins: [3, 5],
      bus: 7,
      enable: 'I2C overlay for pins 3/5 in armbianEnv.txt',
    },
  ],
  bootLayout: 'armbian-env',
  tpm: rockTpm,
  notes: [
    'chips gpio0..gpio4, 32 lines each; line = bank letter x 8 + n',
    'vendor and mainline kernels number sysfs GPIO differently; labels are stable',
  ],
  hardware: {
    verified: false,
    note: "never run on a ROCK 5B: header map from Radxa's wiringX port; the header I2C's bus number (7) is the least certain, it depends on the image's overlay",
  },
};

/** Xunlong Orange Pi 5 (RK3588S), 26-pin header, pinout per wiringOP. */
export const orangePi5: BoardProfile = {
  id: 'orangepi-5',
  name: 'Orange Pi 5',
  family: 'rockchip',
  compatible: ['xunlong,orangepi-5', 'xunlong,orangepi-5b'],
  header: header([
    [3, 'GPIO1_B7', 'I2C5_SDA_M3'],
    [5, 'GPIO1_B6', 'I2C5_SCL_M3'],
    [7, 'GPIO1_C6', 'PWM15'],
    [8, 'GPIO4_A3', 'UART0_RX'],
    [10, 'GPIO4_A4', 'UART0_TX'],
    [11, 'GPIO4_B2', 'CAN1_RX'],
    [12, 'GPIO0_D5', 'CAN2_TX'],
    [13, 'GPIO4_B3', 'CAN1_TX'],
    [15, 'GPIO0_D4', 'CAN2_RX'],
    [16, 'GPIO1_D3', 'I2C1_SDA_M2'],
    [18, 'GPIO1_D2', 'I2C1_SCL_M2'],
    [19, 'GPIO1_C1', 'SPI4_TXD'],
    [21, 'GPIO1_C0', 'SPI4_RXD'],
    [22, 'GPIO2_D4'],
    [23, 'GPIO1_C2', 'SPI4_CLK'],
    [24, 'GPIO1_C4', 'SPI4_CS1'],
    [26, 'GPIO1_A3', 'PWM1'],
  ]),
  i2c: [
    { name: 'I2C5 (M3)', pins: [3, 5], bus: 5, enable: 'overlay i2c5-m3' },
    { name: 'I2C1 (M2)', pins: [16, 18], bus: 1, enable: 'overlay i2c1-m2' },
  ],
  bootLayout: 'armbian-env',
  tpm: rockTpm,
  notes: ['26-pin header', 'chips gpio0..gpio4, 32 lines each; line = bank letter x 8 + n'],
  hardware: {
    verified: false,
    note: 'never run on an Orange Pi 5: header map from wiringOP, I2C bus numbers from the overlay names',
  },
};
