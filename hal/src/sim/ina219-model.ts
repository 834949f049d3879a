import { WordRegisterDevice } from './i2c-bus.js';

/** Shunt full scale (V) per PGA setting (config bits 12:11). */
const SHUNT_FSR = [0.04, 0.08, 0.16, 0.32] as const;

/**
 * Register-level INA219: config, shunt voltage (10 uV LSB), bus voltage (4 mV
 * LSB in bits 15:3, CNVR bit 1, OVF bit 0), power, current, calibration. Current
 * and power follow the datasheet (8.5.1): current = shunt x cal / 4096, power =
 * current x bus / 5000. CNVR is set when a conversion completes and cleared by
 * reading the power register; OVF is set when the shunt exceeds the PGA range.
 */
export class Ina219Model extends WordRegisterDevice {
  readonly #now: () => number;
  #config = 0x399f;
  #cal = 0;
  #convStart: number;
  #cnvrCleared = false;
  busVolts = 5.0;
  currentAmps = 0.25;
  shuntOhms = 0.1;

  constructor(now: () => number) {
    super();
    this.#now = now;
    this.#convStart = now();
  }

  #ready(): boolean {
    // 12-bit conversions take 532 us per channel.
    return this.#now() - this.#convStart >= 1.064;
  }

  #shuntReg(): { value: number; ovf: boolean } {
    const v = this.currentAmps * this.shuntOhms;
    const fsr = SHUNT_FSR[(this.#config >> 11) & 3] ?? 0.32;
    const ovf = Math.abs(v) > fsr;
    const raw = Math.round(Math.max(-fsr, Math.min(fsr, v)) / 10e-6);
    return { value: raw, ovf };
  }

  #currentReg(): number {
    return Math.trunc((this.#shuntReg().value * this.#cal) / 4096);
  }

  protected writeRegister(reg: number, value: number): void {
    if (reg === 0) {
      if (value & 0x8000) {
        this.#config = 0x399f;
        this.#cal = 0;
      } else this.#config = value;
      this.#convStart = this.#now();
      this.#cnvrCleared = false;
    } else if (reg === 5) this.#cal = value & 0xfffe;
  }

  protected readRegister(reg: number): number {
    switch (reg) {
      case 0:
        return this.#config;
      case 1:
        return this.#shuntReg().value & 0xffff;
      case 2: {
        const bus = Math.round(this.busVolts / 0.004) & 0x1fff;
        const cnvr = this.#ready() && !this.#cnvrCleared ? 2 : 0;
        const ovf = this.#shuntReg().ovf || Math.abs(this.#currentReg()) > 32767 ? 1 : 0;
        return (bus << 3) | cnvr | ovf;
      }
      case 3: {
        // Reading power clears CNVR; the next conversion (continuous mode) sets it again.
        this.#cnvrCleared = false;
        this.#convStart = this.#now();
        const bus = Math.round(this.busVolts / 0.004);
        return Math.trunc((Math.abs(this.#currentReg()) * bus) / 5000) & 0xffff;
      }
      case 4:
        return this.#currentReg() & 0xffff;
      case 5:
        return this.#cal;
      default:
        return 0;
    }
  }
}
