import { HalError, hex } from '../errors.js';
import type { Bme280Calibration } from './bme280-compensation.js';
import { compensateH, compensateP, compensateT, parseCalibration } from './bme280-compensation.js';
import type { DriverContext, SensorDriver, SensorValue } from './types.js';

const REG = { ID: 0xd0, RESET: 0xe0, CTRL_HUM: 0xf2, STATUS: 0xf3, CTRL_MEAS: 0xf4, DATA: 0xf7 };
const CHIP_ID = 0x60;

/** Oversampling settings (register codes: 1 = x1 ... 5 = x16). */
export interface Bme280Options {
  readonly oversampling?: { readonly t?: number; readonly p?: number; readonly h?: number };
}

/**
 * Bosch BME280 in forced mode: one measurement per read(), integer
 * compensation from the datasheet (64-bit pressure).
 */
export class Bme280 implements SensorDriver {
  readonly type = 'bme280';
  readonly bus: number;
  readonly address: number;
  readonly #ctx: DriverContext;
  readonly #os: { t: number; p: number; h: number };
  #cal: Bme280Calibration | undefined;

  constructor(ctx: DriverContext, options: Bme280Options = {}) {
    this.#ctx = ctx;
    this.bus = ctx.bus.bus;
    this.address = ctx.address;
    this.#os = {
      t: options.oversampling?.t ?? 1,
      p: options.oversampling?.p ?? 1,
      h: options.oversampling?.h ?? 1,
    };
  }

  async init(): Promise<void> {
    const { bus, address } = this.#ctx;
    const id = await bus.readByte(address, REG.ID);
    if (id !== CHIP_ID) {
      throw new HalError(
        'EDGEFLOW_HAL_SENSOR_ID_MISMATCH',
        `i2c-${bus.bus} ${hex(address)}: chip id ${hex(id)} is not a BME280 (${hex(CHIP_ID)})`,
        { details: { bus: bus.bus, address } },
      );
    }
    const tp = await bus.readBlock(address, 0x88, 26);
    const h = await bus.readBlock(address, 0xe1, 7);
    this.#cal = parseCalibration(tp, h);
    // ctrl_hum must be written before ctrl_meas for it to take effect (datasheet 5.4.3).
    await bus.writeByte(address, REG.CTRL_HUM, this.#os.h & 7);
  }

  /** Typical measurement time in ms (datasheet 9.1), rounded up. */
  #measureMs(): number {
    const os = (v: number): number => (v === 0 ? 0 : 1 << (v - 1));
    const { t, p, h } = this.#os;
    return Math.ceil(1 + 2 * os(t) + (p ? 2 * os(p) + 0.5 : 0) + (h ? 2 * os(h) + 0.5 : 0));
  }

  async read(): Promise<SensorValue[]> {
    if (!this.#cal) await this.init();
    const cal = this.#cal as Bme280Calibration;
    const { bus, address, deps } = this.#ctx;
    const ctrl = ((this.#os.t & 7) << 5) | ((this.#os.p & 7) << 2) | 0x01; // forced mode
    await bus.writeByte(address, REG.CTRL_HUM, this.#os.h & 7);
    await bus.writeByte(address, REG.CTRL_MEAS, ctrl);
    await deps.sleep(this.#measureMs());
    for (let attempt = 0; ; attempt++) {
      const status = await bus.readByte(address, REG.STATUS);
      if ((status & 0x08) === 0) break; // measuring bit clear: data registers updated
      if (attempt >= 5) {
        throw new HalError(
          'EDGEFLOW_HAL_SENSOR_NOT_READY',
          `i2c-${bus.bus} ${hex(address)}: BME280 still measuring after ${attempt + 1} polls`,
          { details: { bus: bus.bus, address } },
        );
      }
      await deps.sleep(2);
    }
    const d = await bus.readBlock(address, REG.DATA, 8);
    const adcP = ((d[0] ?? 0) << 12) | ((d[1] ?? 0) << 4) | ((d[2] ?? 0) >> 4);
    const adcT = ((d[3] ?? 0) << 12) | ((d[4] ?? 0) << 4) | ((d[5] ?? 0) >> 4);
    const adcH = ((d[6] ?? 0) << 8) | (d[7] ?? 0);
    if (adcT === 0x80000) {
      throw new HalError(
        'EDGEFLOW_HAL_SENSOR_NOT_READY',
        `i2c-${bus.bus} ${hex(address)}: BME280 returned the reset value (no measurement made)`,
        { details: { bus: bus.bus, address } },
      );
    }
    const { t100, tFine } = compensateT(adcT, cal);
    const out: SensorValue[] = [{ quantity: 'temperature', value: t100 / 100, unit: 'Cel' }];
    if (adcP !== 0x80000) {
      out.push({ quantity: 'pressure', value: compensateP(adcP, tFine, cal) / 256, unit: 'Pa' });
    }
    if (adcH !== 0x8000) {
      out.push({ quantity: 'humidity', value: compensateH(adcH, tFine, cal) / 1024, unit: '%RH' });
    }
    return out;
  }
}
