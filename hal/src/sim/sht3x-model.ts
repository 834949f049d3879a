import { sensirionCrc8 } from '../drivers/crc8.js';
import { errnoError } from '../gpio/map-error.js';
import type { SimI2cDevice } from './i2c-bus.js';

/**
 * Register-level SHT3x (SHT31): 16-bit commands, single-shot measurement without
 * clock stretching (0x2400, 15 ms max): reading before the data is ready is
 * NACKed (ENXIO), like the part; each word is followed by its CRC-8.
 */
export class Sht3xModel implements SimI2cDevice {
  readonly #now: () => number;
  #readyAt: number | undefined;
  #pending: Uint8Array | undefined;
  #corrupt = 0;
  temperatureC = 21.0;
  humidityPct = 50.0;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Corrupts the CRC of the next `count` measurements (fault injection). */
  corruptNextCrc(count = 1): void {
    this.#corrupt = count;
  }

  #word(v: number): number[] {
    const bytes = Uint8Array.of(v >> 8, v & 0xff);
    let crc = sensirionCrc8(bytes);
    if (this.#corrupt > 0) crc ^= 0x5a;
    return [bytes[0] ?? 0, bytes[1] ?? 0, crc];
  }

  write(data: Uint8Array): void {
    if (data.length < 2) throw errnoError('ENXIO', 'SHT3x NACKs incomplete commands');
    const cmd = ((data[0] ?? 0) << 8) | (data[1] ?? 0);
    switch (cmd) {
      case 0x2400: // high repeatability, no clock stretching
      case 0x240b:
      case 0x2416: {
        const ms = cmd === 0x2400 ? 15 : cmd === 0x240b ? 6 : 4;
        this.#readyAt = this.#now() + ms;
        const st = Math.round(((this.temperatureC + 45) / 175) * 65535);
        const srh = Math.round((this.humidityPct / 100) * 65535);
        const clamp = (v: number): number => Math.min(65535, Math.max(0, v));
        this.#pending = Uint8Array.from([...this.#word(clamp(st)), ...this.#word(clamp(srh))]);
        if (this.#corrupt > 0) this.#corrupt -= 1;
        return;
      }
      case 0x30a2: // soft reset
        this.#readyAt = undefined;
        this.#pending = undefined;
        return;
      case 0xf32d: // read status
        this.#readyAt = this.#now();
        this.#pending = Uint8Array.from(this.#word(0x0000));
        return;
      default:
        throw errnoError('ENXIO', `SHT3x NACKs unknown command 0x${cmd.toString(16)}`);
    }
  }

  read(length: number): Uint8Array {
    if (this.#pending === undefined || this.#readyAt === undefined || this.#now() < this.#readyAt) {
      throw errnoError('ENXIO', 'SHT3x NACKs the read header: no data ready');
    }
    const out = this.#pending.subarray(0, length);
    this.#pending = undefined;
    return out;
  }
}
