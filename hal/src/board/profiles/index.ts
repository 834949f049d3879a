import type { BoardProfile } from '../types.js';
import { jetsonAgxOrin, jetsonOrinNano } from './jetson.js';
import { lattePandaProfiles } from './lattepanda.js';
import { genericLinux, simBoard } from './others.js';
import { raspberryPi5 } from './raspberry-pi.js';
import { orangePi5, rock5b } from './rockchip.js';

export { SIM_CHIP_LABEL, genericLinux, simBoard } from './others.js';
export { FIRMATA_I2C_BUS, lattePandaProfiles } from './lattepanda.js';

/** Every known profile; detection tries them in this order. */
export const boardProfiles: readonly BoardProfile[] = [
  raspberryPi5,
  jetsonOrinNano,
  jetsonAgxOrin,
  rock5b,
  orangePi5,
  ...lattePandaProfiles,
  genericLinux,
  simBoard,
];

/** The profile with this id (extra profiles first, e.g. a test's), or undefined. */
export function profileById(
  id: string,
  extra: readonly BoardProfile[] = [],
): BoardProfile | undefined {
  return [...extra, ...boardProfiles].find((p) => p.id === id);
}
