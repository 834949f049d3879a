import { HalError, hex } from '../errors.js';
import { swap16 } from '../i2c/types.js';
import type { DriverContext, SensorDriver, SensorValue } from './types.js';

/** Shunt and expected range, from which calibration follows (datasheet 8.5.1). */
export interface Ina219Options {
  readonly shuntOhms?: number;
  readonly maxCurrentA?: number;
}

const s16 = (v: number): number => (v & 0x8000 ? v - 0x10000 : v);

/** TI INA219 current/power monitor: bus voltage, shunt current, power. */
export class Ina219 implements SensorDriver {
  readonly type = 'ina219';
  readonly bus: number;
  readonly address: number;
  readonly #ctx: DriverContext;
  readonly #currentLsb: number;
  readonly #cal: number;

  constructor(ctx: DriverContext, options: Ina219Options = {}) {
    this.#ctx = ctx;
    this.bus = ctx.bus.bus;
    this.address = ctx.address;
    const shunt = options.shuntOhms ?? 0.1;
    const maxA = options.maxCurrentA ?? 3.2;
    // Current_LSB = max expected current / 2^15; Cal = trunc(0.04096 / (Current_LSB x R)).
    this.#currentLsb = maxA / 32768;
    this.#cal = Math.trunc(0.04096 / (this.#currentLsb * shunt)) & 0xfffe;
  }

  async init(): Promise<void> {
    const { bus, address } = this.#ctx;
    // 32 V range, PGA /8 (320 mV), 12-bit, continuous shunt and bus (the reset default).
    await bus.writeWord(address, 0, swap16(0x399f));
    await bus.writeWord(address, 5, swap16(this.#cal));
  }

  async read(): Promise<SensorValue[]> {
    const { bus, address, deps } = this.#ctx;
    // The calibration register is cleared by a power-on reset: restore it if so.
    if (swap16(await bus.readWord(address, 5)) !== this.#cal) await this.init();
    let busReg: number;
    for (let attempt = 0; ; attempt++) {
      busReg = swap16(await bus.readWord(address, 2));
      if (busReg & 0x02) break; // CNVR: a conversion completed since the last power read
      if (attempt >= 5) {
        throw new HalError(
          'EDGEFLOW_HAL_SENSOR_NOT_READY',
          `i2c-${bus.bus} ${hex(address)}: INA219 conversion-ready flag never set`,
          { details: { bus: bus.bus, address } },
        );
      }
      await deps.sleep(2);
    }
    if (busReg & 0x01) {
      throw new HalError(
        'EDGEFLOW_HAL_SENSOR_OVERFLOW',
        `i2c-${bus.bus} ${hex(address)}: INA219 math overflow (current beyond the shunt range)`,
        { details: { bus: bus.bus, address } },
      );
    }
    const shunt = s16(swap16(await bus.readWord(address, 1))) * 10e-6;
    const current = s16(swap16(await bus.readWord(address, 4))) * this.#currentLsb;
    const power = swap16(await bus.readWord(address, 3)) * 20 * this.#currentLsb;
    return [
      { quantity: 'bus_voltage', value: (busReg >> 3) * 0.004, unit: 'V' },
      { quantity: 'shunt_voltage', value: shunt, unit: 'V' },
      { quantity: 'current', value: current, unit: 'A' },
      { quantity: 'power', value: power, unit: 'W' },
    ];
  }
}
