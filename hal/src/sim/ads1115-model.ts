import { WordRegisterDevice } from './i2c-bus.js';

/** Full-scale range (V) per PGA setting, datasheet table 8. */
export const ADS1115_FSR = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256] as const;
/** Samples per second per DR setting. */
export const ADS1115_SPS = [8, 16, 32, 64, 128, 250, 475, 860] as const;

/**
 * Register-level ADS1115: pointer + 16-bit registers (conversion, config,
 * thresholds). A config write with OS=1 in single-shot mode starts a conversion
 * lasting one data-rate period; meanwhile config reads OS=0 (busy).
 */
export class Ads1115Model extends WordRegisterDevice {
  readonly #now: () => number;
  #config = 0x8583;
  #conversion = 0;
  #lo = 0x8000;
  #hi = 0x7fff;
  #doneAt: number | undefined;
  #pendingCode = 0;
  /** Voltages on AIN0..AIN3 relative to GND. */
  readonly inputs = [0, 0, 0, 0];

  constructor(now: () => number) {
    super();
    this.#now = now;
  }

  #code(config: number): number {
    const mux = (config >> 12) & 7;
    const a = this.inputs;
    const pairs: Array<[number, number]> = [
      [a[0] ?? 0, a[1] ?? 0],
      [a[0] ?? 0, a[3] ?? 0],
      [a[1] ?? 0, a[3] ?? 0],
      [a[2] ?? 0, a[3] ?? 0],
      [a[0] ?? 0, 0],
      [a[1] ?? 0, 0],
      [a[2] ?? 0, 0],
      [a[3] ?? 0, 0],
    ];
    const [p, n] = pairs[mux] ?? [0, 0];
    const fsr = ADS1115_FSR[(config >> 9) & 7] ?? 2.048;
    const code = Math.round(((p - n) / fsr) * 32768);
    return Math.max(-32768, Math.min(32767, code));
  }

  #tick(): void {
    if (this.#doneAt !== undefined && this.#now() >= this.#doneAt) {
      this.#doneAt = undefined;
      this.#conversion = this.#pendingCode & 0xffff;
    }
  }

  protected writeRegister(reg: number, value: number): void {
    this.#tick();
    if (reg === 1) {
      this.#config = value & 0x7fff;
      const singleShot = (value & 0x0100) !== 0;
      if (value & 0x8000 && singleShot && this.#doneAt === undefined) {
        const sps = ADS1115_SPS[(value >> 5) & 7] ?? 128;
        this.#pendingCode = this.#code(value);
        this.#doneAt = this.#now() + 1000 / sps + 0.025;
      }
    } else if (reg === 2) this.#lo = value;
    else if (reg === 3) this.#hi = value;
  }

  protected readRegister(reg: number): number {
    this.#tick();
    if (reg === 0) return this.#conversion;
    if (reg === 1) return this.#config | (this.#doneAt === undefined ? 0x8000 : 0);
    if (reg === 2) return this.#lo;
    if (reg === 3) return this.#hi;
    return 0;
  }
}
