import type { Bme280Calibration } from '../drivers/bme280-compensation.js';
import {
  compensateH,
  compensateP,
  compensateT,
  encodeCalibration,
} from '../drivers/bme280-compensation.js';
import { ByteRegisterDevice } from './i2c-bus.js';

/** Calibration of the datasheet's worked example (T, P) plus typical humidity trims. */
export const EXAMPLE_CALIBRATION: Bme280Calibration = {
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
  H1: 75,
  H2: 362,
  H3: 0,
  H4: 313,
  H5: 50,
  H6: 30,
};

/** Finds the raw ADC value whose compensated output is closest to `target` (monotonic f). */
function invert(f: (raw: number) => number, target: number, lo: number, hi: number): number {
  const increasing = f(hi) > f(lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const v = f(mid);
    if (v < target === increasing) lo = mid;
    else hi = mid;
  }
  return Math.abs(f(lo) - target) <= Math.abs(f(hi) - target) ? lo : hi;
}

/**
 * Register-level BME280: chip id 0x60, calibration NVM, forced-mode measurement
 * that takes the datasheet's typical time (status bit 3 set meanwhile), data
 * registers latched at the end, 0x80000/0x8000 for skipped measurements.
 */
export class Bme280Model extends ByteRegisterDevice {
  readonly #now: () => number;
  readonly #cal: Bme280Calibration;
  #adc = { t: 0x80000, p: 0x80000, h: 0x8000 };
  #measureEnd: number | undefined;
  #ctrlHumLatched = 0;
  /** Physical values the next measurement reports. */
  temperatureC = 22.5;
  pressurePa = 101325;
  humidityPct = 45;

  constructor(now: () => number, calibration: Bme280Calibration = EXAMPLE_CALIBRATION) {
    super();
    this.#now = now;
    this.#cal = calibration;
    const { tp, h } = encodeCalibration(calibration);
    this.regs.set(tp, 0x88);
    this.regs.set(h, 0xe1);
    this.regs[0xd0] = 0x60;
    this.#latchData();
  }

  /** Raw ADC values that compensate to the current physical values. */
  rawFor(): { t: number; p: number; h: number } {
    const c = this.#cal;
    const t = invert(
      (r) => compensateT(r, c).t100,
      Math.round(this.temperatureC * 100),
      0,
      0xfffff,
    );
    const tFine = compensateT(t, c).tFine;
    // Search where the part operates (300-1100 hPa): far outside it the 64-bit formula wraps.
    const p = invert((r) => compensateP(r, tFine, c), this.pressurePa * 256, 150_000, 700_000);
    const h = invert((r) => compensateH(r, tFine, c), this.humidityPct * 1024, 0, 0xffff);
    return { t, p, h };
  }

  protected override writeRegister(reg: number, value: number): void {
    if (reg === 0xe0 && value === 0xb6) {
      this.regs[0xf2] = 0;
      this.regs[0xf4] = 0;
      this.regs[0xf5] = 0;
      this.#measureEnd = undefined;
      return;
    }
    if (reg === 0xf2 || reg === 0xf5) this.regs[reg] = value;
    if (reg === 0xf4) {
      this.regs[0xf4] = value;
      // ctrl_hum only takes effect after a write to ctrl_meas (datasheet 5.4.3).
      this.#ctrlHumLatched = (this.regs[0xf2] ?? 0) & 0x07;
      const mode = value & 0x03;
      if (mode === 1 || mode === 2) {
        const os = (v: number): number => (v === 0 ? 0 : 1 << (v - 1));
        const osT = os((value >> 5) & 7);
        const osP = os((value >> 2) & 7);
        const osH = os(this.#ctrlHumLatched);
        // Typical measurement time, datasheet 9.1.
        const ms = 1 + 2 * osT + (osP ? 2 * osP + 0.5 : 0) + (osH ? 2 * osH + 0.5 : 0);
        this.#measureEnd = this.#now() + ms;
      }
    }
  }

  #latchData(): void {
    const ctrl = this.regs[0xf4] ?? 0;
    const raw = this.rawFor();
    this.#adc = {
      t: (ctrl >> 5) & 7 ? raw.t : 0x80000,
      p: (ctrl >> 2) & 7 ? raw.p : 0x80000,
      h: this.#ctrlHumLatched ? raw.h : 0x8000,
    };
    const { t, p, h } = this.#adc;
    this.regs.set(
      [
        p >> 12,
        (p >> 4) & 0xff,
        (p & 0xf) << 4,
        t >> 12,
        (t >> 4) & 0xff,
        (t & 0xf) << 4,
        h >> 8,
        h & 0xff,
      ],
      0xf7,
    );
  }

  protected override beforeRead(): void {
    if (this.#measureEnd !== undefined && this.#now() >= this.#measureEnd) {
      this.#measureEnd = undefined;
      this.#latchData();
      // Forced mode returns to sleep after one measurement.
      if (((this.regs[0xf4] ?? 0) & 3) !== 3) this.regs[0xf4] = (this.regs[0xf4] ?? 0) & 0xfc;
    }
    this.regs[0xf3] = this.#measureEnd !== undefined ? 0x08 : 0x00;
  }
}
