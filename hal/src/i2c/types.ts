/**
 * An I2C bus. SMBus-style register access plus plain transfers. Word access uses
 * SMBus byte order (low byte first): drivers of big-endian parts swap (see
 * swap16). Every call is one transaction; transactions on one bus never overlap.
 */
export interface I2cBus {
  readonly bus: number;
  readByte(address: number, register: number): Promise<number>;
  writeByte(address: number, register: number, value: number): Promise<void>;
  readWord(address: number, register: number): Promise<number>;
  writeWord(address: number, register: number, value: number): Promise<void>;
  /** I2C block read of `length` (1-32) bytes starting at `register`. */
  readBlock(address: number, register: number, length: number): Promise<Buffer>;
  writeBlock(address: number, register: number, data: Uint8Array): Promise<void>;
  /** Plain read (no register pointer); SMBus-only adapters refuse it. */
  read(address: number, length: number): Promise<Buffer>;
  /** Plain write; SMBus-only adapters refuse it. */
  write(address: number, data: Uint8Array): Promise<void>;
  /** Addresses (0x03-0x77) that answer, like i2cdetect. */
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

/** What a backend implements: the same calls, unqueued, failing with errno-coded errors. */
export type I2cTransport = Omit<I2cBus, 'bus'>;

/** Swaps the two bytes of a 16-bit word (SMBus little-endian <-> big-endian registers). */
export function swap16(word: number): number {
  return ((word & 0xff) << 8) | ((word >> 8) & 0xff);
}
