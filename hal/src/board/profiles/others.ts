import type { BoardProfile, HeaderPin } from '../types.js';

/** Any other Linux machine: chips and buses are listed, no header map. */
export const genericLinux: BoardProfile = {
  id: 'generic',
  name: 'Generic Linux',
  family: 'generic',
  compatible: [],
  header: [],
  i2c: [],
  bootLayout: 'none',
  tpm: { kind: 'none', device: '/dev/tpmrm0', note: 'unknown board: a TPM may or may not exist' },
  notes: ['board not recognised: use "<chip label>:<offset>" pin names'],
};

/** Label of the simulated gpiochip. */
export const SIM_CHIP_LABEL = 'edgeflow-sim';

// The simulator mirrors the Raspberry Pi header layout so examples carry over.
const SIM_PINS: ReadonlyArray<readonly [number, number]> = [
  [7, 4],
  [11, 17],
  [12, 18],
  [13, 27],
  [15, 22],
  [16, 23],
  [18, 24],
  [22, 25],
  [29, 5],
  [31, 6],
  [32, 12],
  [33, 13],
  [35, 19],
  [36, 16],
  [37, 26],
  [38, 20],
  [40, 21],
];

const simHeader: HeaderPin[] = SIM_PINS.map(([pin, line]) => ({
  pin,
  name: `GPIO${line}`,
  chip: SIM_CHIP_LABEL,
  line,
}));

/** The in-memory simulator board used by tests and by `npm start` with no board. */
export const simBoard: BoardProfile = {
  id: 'sim',
  name: 'EdgeFlow simulator',
  family: 'sim',
  compatible: [],
  header: simHeader,
  i2c: [{ name: 'i2c1', pins: [3, 5], bus: 1 }],
  bootLayout: 'none',
  tpm: { kind: 'simulated', device: 'swtpm', note: 'use swtpm for a simulated TPM' },
  // A jumper between pins 38 (GPIO20) and 40 (GPIO21), which no example uses, so GPIO loopback
  // checks (EdgeReady ER-HW-GPIO) run on the simulator as they do on a jumpered board.
  jumpers: [{ out: 38, in: 40 }],
  notes: [
    'in-memory GPIO chip "edgeflow-sim" (54 lines) and I2C bus 1 with simulated sensors',
    'header pins 38 (GPIO20) and 40 (GPIO21) are joined by a simulated jumper wire',
  ],
};
