import { HalError, I2cNoAckError, hex } from '../errors.js';
import { sensirionCrc8 } from './crc8.js';
import type { DriverContext, SensorDriver, SensorValue } from './types.js';

/**
 * Sensirion SHT3x (SHT30/31/35): single-shot, high repeatability, no clock
 * stretching (command 0x2400, 15 ms max). The part NACKs a read while
 * measuring, so a NACK after the wait is retried a few times before it counts
 * as not ready. A CRC mismatch is an error, never a value.
 */
export class Sht3x implements SensorDriver {
  readonly type = 'sht3x';
  readonly bus: number;
  readonly address: number;
  readonly #ctx: DriverContext;

  constructor(ctx: DriverContext) {
    this.#ctx = ctx;
    this.bus = ctx.bus.bus;
    this.address = ctx.address;
  }

  async init(): Promise<void> {
    const { bus, address, deps } = this.#ctx;
    await bus.write(address, Uint8Array.of(0x30, 0xa2)); // soft reset
    await deps.sleep(2);
  }

  async read(): Promise<SensorValue[]> {
    const { bus, address, deps } = this.#ctx;
    await bus.write(address, Uint8Array.of(0x24, 0x00));
    await deps.sleep(15);
    let data: Buffer | undefined;
    for (let attempt = 0; attempt < 4 && data === undefined; attempt++) {
      try {
        data = await bus.read(address, 6);
      } catch (err) {
        if (!(err instanceof I2cNoAckError) || attempt === 3) {
          if (err instanceof I2cNoAckError) {
            throw new HalError(
              'EDGEFLOW_HAL_SENSOR_NOT_READY',
              `i2c-${bus.bus} ${hex(address)}: SHT3x kept NACKing the result read`,
              { cause: err, details: { bus: bus.bus, address } },
            );
          }
          throw err;
        }
        await deps.sleep(5);
      }
    }
    const d = data as Buffer;
    for (const off of [0, 3]) {
      const crc = sensirionCrc8(d.subarray(off, off + 2));
      if (crc !== d[off + 2]) {
        throw new HalError(
          'EDGEFLOW_HAL_CRC_MISMATCH',
          `i2c-${bus.bus} ${hex(address)}: SHT3x CRC mismatch (got ${hex(d[off + 2] ?? 0)}, computed ${hex(crc)})`,
          { details: { bus: bus.bus, address } },
        );
      }
    }
    const st = d.readUInt16BE(0);
    const srh = d.readUInt16BE(3);
    return [
      { quantity: 'temperature', value: -45 + (175 * st) / 65535, unit: 'Cel' },
      { quantity: 'humidity', value: (100 * srh) / 65535, unit: '%RH' },
    ];
  }
}
