import type { BoardProfile, HeaderPin } from '../types.js';

type Row = readonly [pin: number, chip: 'main' | 'aon', line: number, pad: string, name: string];

// Rows: header pin, chip, line offset, Tegra pad (what JetPack 5 sysfs names the
// line, e.g. PQ.05), signal name from the carrier-board spec. Offsets follow
// NVIDIA's Jetson.GPIO pin tables for tegra234.
const ORIN_NANO_NX: readonly Row[] = [
  [7, 'main', 144, 'PAC.06', 'GPIO09'],
  [11, 'main', 112, 'PR.04', 'UART1_RTS'],
  [12, 'main', 50, 'PH.07', 'I2S0_SCLK'],
  [13, 'main', 122, 'PY.00', 'SPI1_SCK'],
  [15, 'main', 85, 'PN.01', 'GPIO12'],
  [16, 'main', 126, 'PY.04', 'SPI1_CS1'],
  [18, 'main', 125, 'PY.03', 'SPI1_CS0'],
  [19, 'main', 135, 'PZ.05', 'SPI0_MOSI'],
  [21, 'main', 134, 'PZ.04', 'SPI0_MISO'],
  [22, 'main', 123, 'PY.01', 'SPI1_MISO'],
  [23, 'main', 133, 'PZ.03', 'SPI0_SCK'],
  [24, 'main', 136, 'PZ.06', 'SPI0_CS0'],
  [26, 'main', 137, 'PZ.07', 'SPI0_CS1'],
  [29, 'main', 105, 'PQ.05', 'GPIO01'],
  [31, 'main', 106, 'PQ.06', 'GPIO11'],
  [32, 'main', 41, 'PG.06', 'GPIO07'],
  [33, 'main', 43, 'PH.00', 'GPIO13'],
  [35, 'main', 53, 'PI.02', 'I2S0_FS'],
  [36, 'main', 113, 'PR.05', 'UART1_CTS'],
  [37, 'main', 124, 'PY.02', 'SPI1_MOSI'],
  [38, 'main', 52, 'PI.01', 'I2S0_SDIN'],
  [40, 'main', 51, 'PI.00', 'I2S0_SDOUT'],
];

const AGX_ORIN: readonly Row[] = [
  [7, 'main', 106, 'PQ.06', 'MCLK05'],
  [11, 'main', 112, 'PR.04', 'UART1_RTS'],
  [12, 'main', 50, 'PH.07', 'I2S2_CLK'],
  [13, 'main', 108, 'PR.00', 'PWM01'],
  [15, 'main', 85, 'PN.01', 'GPIO27'],
  [16, 'aon', 9, 'PBB.01', 'GPIO08'],
  [18, 'main', 43, 'PH.00', 'GPIO35'],
  [19, 'main', 135, 'PZ.05', 'SPI1_MOSI'],
  [21, 'main', 134, 'PZ.04', 'SPI1_MISO'],
  [22, 'main', 96, 'PP.04', 'GPIO17'],
  [23, 'main', 133, 'PZ.03', 'SPI1_CLK'],
  [24, 'main', 136, 'PZ.06', 'SPI1_CS0_N'],
  [26, 'main', 137, 'PZ.07', 'SPI1_CS1_N'],
  [29, 'aon', 1, 'PAA.01', 'CAN0_DIN'],
  [31, 'aon', 0, 'PAA.00', 'CAN0_DOUT'],
  [32, 'aon', 8, 'PBB.00', 'GPIO09'],
  [33, 'aon', 2, 'PAA.02', 'CAN1_DOUT'],
  [35, 'main', 53, 'PI.02', 'I2S2_FS'],
  [36, 'main', 113, 'PR.05', 'UART1_CTS'],
  [37, 'aon', 3, 'PAA.03', 'CAN1_DIN'],
  [38, 'main', 52, 'PI.01', 'I2S2_DIN'],
  [40, 'main', 51, 'PI.00', 'I2S2_DOUT'],
];

function header(rows: readonly Row[]): HeaderPin[] {
  return rows.map(([pin, chip, line, pad, name]) => ({
    pin,
    name,
    aliases: [pad],
    chip: chip === 'main' ? 'tegra234-gpio' : 'tegra234-gpio-aon',
    line,
  }));
}

const jetsonNotes = [
  'chips tegra234-gpio (164 lines) and tegra234-gpio-aon (32 lines)',
  'JetPack 6 has no sysfs GPIO: the cdev backend is the only one',
  'JetPack 5 sysfs names lines after Tegra pads (PAA.00): accepted as pin aliases',
  'header pins may need jetson-io.py to be muxed as GPIO',
];

const jetsonUnverified = {
  verified: false,
  note: "never run on a Jetson: line offsets and chip labels from NVIDIA's Jetson.GPIO tables for tegra234, I2C bus numbers from the carrier-board documentation",
} as const;

const jetsonTpm = {
  kind: 'firmware',
  device: '/dev/tpmrm0',
  note: 'firmware TPM (OP-TEE fTPM) on JetPack 6 when enabled in the flashed image',
} as const;

/** Jetson Orin Nano / Orin NX on the p3768 developer-kit carrier. */
export const jetsonOrinNano: BoardProfile = {
  id: 'jetson-orin-nano',
  name: 'NVIDIA Jetson Orin Nano/NX Developer Kit (p3768)',
  family: 'jetson',
  compatible: ['nvidia,p3768-0000+p3767-*'],
  header: header(ORIN_NANO_NX),
  i2c: [
    { name: 'I2C1 (gen2)', pins: [27, 28], bus: 1 },
    { name: 'I2C0 (gen8)', pins: [3, 5], bus: 7 },
  ],
  bootLayout: 'jetson-extlinux',
  tpm: jetsonTpm,
  notes: jetsonNotes,
  hardware: jetsonUnverified,
};

/** Jetson AGX Orin developer kit (p3737 carrier). */
export const jetsonAgxOrin: BoardProfile = {
  id: 'jetson-agx-orin',
  name: 'NVIDIA Jetson AGX Orin Developer Kit (p3737)',
  family: 'jetson',
  compatible: ['nvidia,p3737-0000+p3701-*'],
  header: header(AGX_ORIN),
  i2c: [
    { name: 'I2C2 (gen2)', pins: [27, 28], bus: 1 },
    { name: 'I2C5 (gen8)', pins: [3, 5], bus: 7 },
  ],
  bootLayout: 'jetson-extlinux',
  tpm: jetsonTpm,
  notes: jetsonNotes,
  hardware: jetsonUnverified,
};
