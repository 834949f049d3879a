import { HalError, hex } from '../errors.js';
import { swap16 } from '../i2c/types.js';
import type { DriverContext, SensorDriver, SensorValue } from './types.js';

/** Full-scale ranges (V) the PGA offers, index = PGA code. */
export const ADS1115_GAINS = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256] as const;
/** Data rates (samples/s), index = DR code. */
export const ADS1115_RATES = [8, 16, 32, 64, 128, 250, 475, 860] as const;

/** One single-ended channel to convert. */
export interface Ads1115Channel {
  readonly channel: 0 | 1 | 2 | 3;
  /** Full-scale range in volts (one of ADS1115_GAINS). */
  readonly fullScale?: number;
  /** Samples per second (one of ADS1115_RATES). */
  readonly dataRate?: number;
  /** Quantity name in readings (default "ain<channel>"). */
  readonly name?: string;
}

function codeOf<T extends number>(table: readonly T[], value: number, what: string): number {
  const i = table.indexOf(value as T);
  if (i < 0) {
    throw new HalError(
      'EDGEFLOW_HAL_BAD_CONFIG',
      `ADS1115 ${what} ${value} not one of ${table.join(', ')}`,
    );
  }
  return i;
}

/** TI ADS1115: single-shot conversions with per-channel gain and data rate. */
export class Ads1115 implements SensorDriver {
  readonly type = 'ads1115';
  readonly bus: number;
  readonly address: number;
  readonly #ctx: DriverContext;
  readonly #channels: readonly Ads1115Channel[];

  constructor(ctx: DriverContext, channels: readonly Ads1115Channel[] = [{ channel: 0 }]) {
    this.#ctx = ctx;
    this.bus = ctx.bus.bus;
    this.address = ctx.address;
    for (const c of channels) {
      codeOf(ADS1115_GAINS, c.fullScale ?? 4.096, 'full scale');
      codeOf(ADS1115_RATES, c.dataRate ?? 128, 'data rate');
    }
    this.#channels = channels;
  }

  async init(): Promise<void> {
    // Reading the config register proves the part answers.
    await this.#ctx.bus.readWord(this.#ctx.address, 1);
  }

  /** One single-shot conversion; returns volts. */
  async convert(c: Ads1115Channel): Promise<number> {
    const { bus, address, deps } = this.#ctx;
    const fsr = c.fullScale ?? 4.096;
    const rate = c.dataRate ?? 128;
    const pga = codeOf(ADS1115_GAINS, fsr, 'full scale');
    const dr = codeOf(ADS1115_RATES, rate, 'data rate');
    // OS=1 start, MUX=1xx single-ended AINx vs GND, MODE=1 single-shot, comparator off (11).
    const config = 0x8000 | ((4 + c.channel) << 12) | (pga << 9) | 0x0100 | (dr << 5) | 0x0003;
    await bus.writeWord(address, 1, swap16(config));
    await deps.sleep(Math.ceil(1000 / rate) + 1);
    for (let attempt = 0; ; attempt++) {
      const cfg = swap16(await bus.readWord(address, 1));
      if (cfg & 0x8000) break; // OS=1: no conversion in progress
      if (attempt >= 5) {
        throw new HalError(
          'EDGEFLOW_HAL_SENSOR_NOT_READY',
          `i2c-${bus.bus} ${hex(address)}: ADS1115 conversion did not complete`,
          { details: { bus: bus.bus, address } },
        );
      }
      await deps.sleep(Math.ceil(1000 / rate));
    }
    const raw = swap16(await bus.readWord(address, 0));
    const signed = raw & 0x8000 ? raw - 0x10000 : raw;
    return (signed * fsr) / 32768;
  }

  async read(): Promise<SensorValue[]> {
    const out: SensorValue[] = [];
    for (const c of this.#channels) {
      out.push({ quantity: c.name ?? `ain${c.channel}`, value: await this.convert(c), unit: 'V' });
    }
    return out;
  }
}
