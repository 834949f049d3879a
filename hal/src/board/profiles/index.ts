import type { BoardProfile } from '../types.js';
import { jetsonAgxOrin, jetsonOrinNano } from './jetson.js';
import { genericLinux, lattePanda, simBoard } from './others.js';
import { raspberryPi5 } from './raspberry-pi.js';
import { orangePi5, rock5b } from './rockchip.js';

export { SIM_CHIP_LABEL, genericLinux, simBoard } from './others.js';

/** Every known profile; detection tries them in this order. */
export const boardProfiles: readonly BoardProfile[] = [
  raspberryPi5,
  jetsonOrinNano,
  jetsonAgxOrin,
  rock5b,
  orangePi5,
  lattePanda,
  genericLinux,
  simBoard,
];

/** The profile with this id, or undefined. */
export function profileById(id: string): BoardProfile | undefined {
  return boardProfiles.find((p) => p.id === id);
}
