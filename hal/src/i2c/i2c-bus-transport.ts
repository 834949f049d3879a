import { HalError } from '../errors.js';
import type { I2cTransport } from './types.js';

/** The part of i2c-bus's PromisifiedBus we use (i2c-bus is an optional dependency). */
export interface PromisifiedI2c {
  readByte(a: number, cmd: number): Promise<number>;
  writeByte(a: number, cmd: number, b: number): Promise<void>;
  readWord(a: number, cmd: number): Promise<number>;
  writeWord(a: number, cmd: number, w: number): Promise<void>;
  readI2cBlock(a: number, cmd: number, len: number, buf: Buffer): Promise<{ bytesRead: number }>;
  writeI2cBlock(a: number, cmd: number, len: number, buf: Buffer): Promise<unknown>;
  i2cRead(a: number, len: number, buf: Buffer): Promise<{ bytesRead: number }>;
  i2cWrite(a: number, len: number, buf: Buffer): Promise<unknown>;
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

/** Opens /dev/i2c-N through i2c-bus's promise API (its async calls run off the loop thread). */
export type I2cOpener = (bus: number) => Promise<PromisifiedI2c>;

/** Loads the optional i2c-bus package; throws BACKEND_UNAVAILABLE with the reason. */
export async function loadI2cBusOpener(): Promise<I2cOpener> {
  try {
    const mod = (await import('i2c-bus')) as unknown as {
      openPromisified?: I2cOpener;
      default?: { openPromisified: I2cOpener };
    };
    const open = mod.openPromisified ?? mod.default?.openPromisified;
    if (!open) throw new Error('i2c-bus has no openPromisified');
    return open;
  } catch (err) {
    throw new HalError(
      'EDGEFLOW_HAL_BACKEND_UNAVAILABLE',
      `I2C backend unavailable: optional package i2c-bus not installed or not built (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
}

/** Adapts an open i2c-bus handle to the transport interface. */
export function i2cBusTransport(h: PromisifiedI2c): I2cTransport {
  return {
    readByte: (a, r) => h.readByte(a, r),
    writeByte: (a, r, v) => h.writeByte(a, r, v),
    readWord: (a, r) => h.readWord(a, r),
    writeWord: (a, r, v) => h.writeWord(a, r, v),
    readBlock: async (a, r, n) => {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await h.readI2cBlock(a, r, n, buf);
      return buf.subarray(0, bytesRead);
    },
    writeBlock: async (a, r, d) => {
      await h.writeI2cBlock(a, r, d.length, Buffer.from(d));
    },
    read: async (a, n) => {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await h.i2cRead(a, n, buf);
      return buf.subarray(0, bytesRead);
    },
    write: async (a, d) => {
      await h.i2cWrite(a, d.length, Buffer.from(d));
    },
    scan: () => h.scan(),
    close: () => h.close(),
  };
}
