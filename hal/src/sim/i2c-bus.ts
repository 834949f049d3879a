import { errnoError } from '../gpio/map-error.js';
import type { I2cTransport } from '../i2c/types.js';

/**
 * A simulated I2C target. `write` is one write message (first byte usually a
 * register pointer or command), `read` one read message. Throwing an error with
 * code ENXIO models a NACK.
 */
export interface SimI2cDevice {
  write(data: Uint8Array): void;
  read(length: number): Uint8Array;
}

/** Options that make the simulated adapter behave like a specific kernel driver. */
export interface SimI2cBusOptions {
  /** Refuse plain read/write with EOPNOTSUPP, as i2c-stub does. */
  readonly smbusOnly?: boolean;
  /** Errno for an absent address: ENXIO (real adapters) or ENODEV (i2c-stub). */
  readonly absentErrno?: 'ENXIO' | 'EREMOTEIO' | 'ENODEV';
}

/** An in-memory I2C adapter with devices attached at addresses. */
export class SimI2cBus implements I2cTransport {
  readonly #devices = new Map<number, SimI2cDevice>();
  readonly #opts: SimI2cBusOptions;
  /** Set to an errno to make every transfer fail with it (bus fault injection). */
  fault: string | undefined;

  constructor(options: SimI2cBusOptions = {}) {
    this.#opts = options;
  }

  attach(address: number, device: SimI2cDevice): this {
    this.#devices.set(address, device);
    return this;
  }

  detach(address: number): void {
    this.#devices.delete(address);
  }

  device(address: number): SimI2cDevice | undefined {
    return this.#devices.get(address);
  }

  #dev(address: number): SimI2cDevice {
    if (this.fault !== undefined) throw errnoError(this.fault, 'injected bus fault');
    const d = this.#devices.get(address);
    if (!d) throw errnoError(this.#opts.absentErrno ?? 'ENXIO', `no device at ${address}`);
    return d;
  }

  #readReg(a: number, r: number, n: number): Buffer {
    const d = this.#dev(a);
    d.write(Uint8Array.of(r));
    return Buffer.from(d.read(n));
  }

  readByte(a: number, r: number): Promise<number> {
    return Promise.resolve().then(() => this.#readReg(a, r, 1)[0] ?? 0);
  }
  writeByte(a: number, r: number, v: number): Promise<void> {
    return Promise.resolve().then(() => this.#dev(a).write(Uint8Array.of(r, v & 0xff)));
  }
  readWord(a: number, r: number): Promise<number> {
    // SMBus word: first byte on the wire is the low byte.
    return Promise.resolve().then(() => this.#readReg(a, r, 2).readUInt16LE(0));
  }
  writeWord(a: number, r: number, v: number): Promise<void> {
    return Promise.resolve().then(() =>
      this.#dev(a).write(Uint8Array.of(r, v & 0xff, (v >> 8) & 0xff)),
    );
  }
  readBlock(a: number, r: number, n: number): Promise<Buffer> {
    return Promise.resolve().then(() => this.#readReg(a, r, n));
  }
  writeBlock(a: number, r: number, d: Uint8Array): Promise<void> {
    return Promise.resolve().then(() => this.#dev(a).write(Uint8Array.of(r, ...d)));
  }
  read(a: number, n: number): Promise<Buffer> {
    return Promise.resolve().then(() => {
      if (this.#opts.smbusOnly) throw errnoError('EOPNOTSUPP', 'plain I2C read');
      return Buffer.from(this.#dev(a).read(n));
    });
  }
  write(a: number, data: Uint8Array): Promise<void> {
    return Promise.resolve().then(() => {
      if (this.#opts.smbusOnly) throw errnoError('EOPNOTSUPP', 'plain I2C write');
      this.#dev(a).write(data);
    });
  }
  scan(): Promise<number[]> {
    return Promise.resolve().then(() => {
      if (this.fault !== undefined) throw errnoError(this.fault, 'injected bus fault');
      return [...this.#devices.keys()].filter((a) => a >= 0x03 && a <= 0x77).sort((x, y) => x - y);
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A device with 8-bit registers and an auto-incrementing pointer (BME280 style). */
export class ByteRegisterDevice implements SimI2cDevice {
  protected readonly regs = new Uint8Array(256);
  protected pointer = 0;

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pointer = data[0] ?? 0;
    for (const v of data.subarray(1)) {
      this.writeRegister(this.pointer, v);
      this.pointer = (this.pointer + 1) & 0xff;
    }
  }

  read(length: number): Uint8Array {
    this.beforeRead();
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.readRegister(this.pointer);
      this.pointer = (this.pointer + 1) & 0xff;
    }
    return out;
  }

  protected beforeRead(): void {}
  protected writeRegister(reg: number, value: number): void {
    this.regs[reg] = value;
  }
  protected readRegister(reg: number): number {
    return this.regs[reg] ?? 0;
  }
}

/** A device with a pointer register and 16-bit big-endian registers (ADS1115, INA219). */
export abstract class WordRegisterDevice implements SimI2cDevice {
  protected pointer = 0;

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pointer = data[0] ?? 0;
    if (data.length >= 3) this.writeRegister(this.pointer, ((data[1] ?? 0) << 8) | (data[2] ?? 0));
  }

  read(length: number): Uint8Array {
    const v = this.readRegister(this.pointer) & 0xffff;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = i % 2 === 0 ? v >> 8 : v & 0xff;
    return out;
  }

  protected abstract writeRegister(reg: number, value: number): void;
  protected abstract readRegister(reg: number): number;
}
