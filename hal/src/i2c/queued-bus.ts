import { HalError, I2cBusError, I2cNoAckError, errnoOf, hex } from '../errors.js';
import type { I2cBus, I2cTransport } from './types.js';

/**
 * Maps an errno from a transfer to a typed error naming bus and address.
 * ENXIO/EREMOTEIO: no ACK on real adapters; ENODEV: i2c-stub's answer for an
 * absent device; EIO/ETIMEDOUT/EAGAIN: the bus itself failed.
 */
export function mapI2cError(err: unknown, bus: number, address: number, op: string): HalError {
  if (err instanceof HalError) return err;
  const errno = errnoOf(err);
  const where = `i2c-${bus} ${hex(address)}`;
  const details = { bus, address, ...(errno === undefined ? {} : { errno }) };
  switch (errno) {
    case 'ENXIO':
    case 'EREMOTEIO':
    case 'ENODEV':
      return new I2cNoAckError(`${op} on ${where}: no device answered (${errno})`, {
        cause: err,
        details,
      });
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      return new HalError(
        'EDGEFLOW_HAL_UNSUPPORTED',
        `${op} on ${where}: adapter does not support it`,
        {
          cause: err,
          details,
        },
      );
    case 'ENOENT':
      return new HalError(
        'EDGEFLOW_HAL_BUS_NOT_FOUND',
        `i2c-${bus}: /dev/i2c-${bus} does not exist`,
        {
          cause: err,
          details,
        },
      );
    default:
      return new I2cBusError(
        `${op} on ${where} failed: ${errno ?? (err as Error)?.message ?? String(err)}`,
        { cause: err, details },
      );
  }
}

/**
 * Wraps a transport so that transactions on the bus run one at a time (a FIFO
 * promise chain) and failures become typed errors. One instance per bus number
 * is shared by the whole agent (see I2cBusRegistry).
 */
export class QueuedI2cBus implements I2cBus {
  readonly bus: number;
  readonly #t: I2cTransport;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(bus: number, transport: I2cTransport) {
    this.bus = bus;
    this.#t = transport;
  }

  #run<T>(address: number, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new I2cBusError(`${op} on i2c-${this.bus}: bus is closed`, { details: { bus: this.bus } }),
      );
    }
    const next = this.#tail.then(
      () => fn(),
      () => fn(),
    );
    this.#tail = next.catch(() => undefined);
    return next.catch((err: unknown) => {
      throw mapI2cError(err, this.bus, address, op);
    });
  }

  readByte(a: number, r: number): Promise<number> {
    return this.#run(a, `readByte ${hex(r)}`, () => this.#t.readByte(a, r));
  }
  writeByte(a: number, r: number, v: number): Promise<void> {
    return this.#run(a, `writeByte ${hex(r)}`, () => this.#t.writeByte(a, r, v));
  }
  readWord(a: number, r: number): Promise<number> {
    return this.#run(a, `readWord ${hex(r)}`, () => this.#t.readWord(a, r));
  }
  writeWord(a: number, r: number, v: number): Promise<void> {
    return this.#run(a, `writeWord ${hex(r)}`, () => this.#t.writeWord(a, r, v));
  }
  readBlock(a: number, r: number, n: number): Promise<Buffer> {
    return this.#run(a, `readBlock ${hex(r)}`, () => this.#t.readBlock(a, r, n));
  }
  writeBlock(a: number, r: number, d: Uint8Array): Promise<void> {
    return this.#run(a, `writeBlock ${hex(r)}`, () => this.#t.writeBlock(a, r, d));
  }
  read(a: number, n: number): Promise<Buffer> {
    return this.#run(a, 'read', () => this.#t.read(a, n));
  }
  write(a: number, d: Uint8Array): Promise<void> {
    return this.#run(a, 'write', () => this.#t.write(a, d));
  }
  scan(): Promise<number[]> {
    return this.#run(0, 'scan', () => this.#t.scan());
  }
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.#t.close();
  }
}
