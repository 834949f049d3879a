import { HalError, hex } from '../errors.js';
import { errnoError } from '../gpio/map-error.js';
import type { I2cTransport } from '../i2c/types.js';
import type { FirmataLink, LinkExchange } from './link.js';
import {
  I2C_MAX_READ,
  I2C_MAX_WRITE,
  PinMode,
  i2cConfig,
  i2cReadOnce,
  i2cWrite,
  pinStateQuery,
} from './protocol.js';

/**
 * I2C through the co-processor's Firmata I2C messages (i2c.md): every transfer is one
 * I2C_REQUEST on the link's queue. What StandardFirmata can tell: a read that got no bytes
 * (the address did not ACK: it sends "I2C: Too few bytes received" before its reply).
 * What it cannot: a write that was not acknowledged (it ignores Wire.endTransmission's
 * status), so a write to an absent address succeeds and the next read fails instead.
 */
export class FirmataI2cTransport implements I2cTransport {
  readonly #link: FirmataLink;
  readonly #timeoutMs: number;
  #fencePin = 0;

  constructor(link: FirmataLink, requestTimeoutMs = 1000) {
    this.#link = link;
    this.#timeoutMs = requestTimeoutMs;
  }

  /** Claims the SDA/SCL pins and sends I2C_CONFIG once per link (restored after reconnects). */
  async #ensure(x: LinkExchange): Promise<void> {
    const table = this.#link.pins;
    const i2cPins = x.firmware.capabilities.flatMap((c, pin) => (c.has(PinMode.I2C) ? [pin] : []));
    if (i2cPins.length === 0) {
      throw new HalError(
        'EDGEFLOW_HAL_FIRMATA_VERSION',
        `${this.#link.device}: ${x.firmware.name} offers no I2C pins (capability query): flash StandardFirmata, which includes I2C`,
        { details: { device: this.#link.device } },
      );
    }
    this.#fencePin = i2cPins[0] ?? 0;
    if (table.i2cEnabled) return;
    for (const pin of i2cPins) {
      const holder = table.owner(pin);
      if (holder !== undefined && table.claim(pin)?.use !== 'i2c') {
        throw new HalError(
          'EDGEFLOW_HAL_LINE_BUSY',
          `firmata:${pin} is an I2C pin and is requested as a GPIO line by ${holder}: release it to use I2C`,
          { details: { chip: 'firmata', pin: `firmata:${pin}` } },
        );
      }
    }
    for (const pin of i2cPins) table.set(pin, { use: 'i2c' }, 'i2c');
    table.enableI2c();
    await x.send(i2cConfig());
  }

  #read(address: number, register: number | undefined, length: number): Promise<Buffer> {
    if (length < 1 || length > I2C_MAX_READ) {
      return Promise.reject(
        new HalError(
          'EDGEFLOW_HAL_UNSUPPORTED',
          `Firmata I2C reads 1-${I2C_MAX_READ} bytes, not ${length}`,
          {
            details: { address },
          },
        ),
      );
    }
    return this.#link.run(`i2c read ${hex(address)}`, async (x) => {
      await this.#ensure(x);
      await x.send(i2cReadOnce(address, register, length));
      const reply = await x.expect(
        `I2C_REPLY from ${hex(address)}`,
        (m) => (m.kind === 'i2cReply' && m.address === address ? m : undefined),
        this.#timeoutMs,
      );
      const said = x.strings.length > 0 ? ` (firmware: "${x.strings.join('; ')}")` : '';
      // Mapped by the bus queue: ENXIO = no ACK, EIO = the transfer broke off. AVR Wire's
      // requestFrom gets all bytes or none (a NACKed address), and StandardFirmata up to 2.4
      // still pads its reply with stale buffer bytes: its "Too few bytes" string is the signal.
      const tooFew = x.strings.some((s) => /too few bytes/i.test(s));
      if (tooFew || reply.data.length === 0)
        throw errnoError('ENXIO', `no bytes from ${hex(address)}${said}`);
      if (reply.data.length < length)
        throw errnoError(
          'EIO',
          `${reply.data.length} of ${length} bytes from ${hex(address)}${said}`,
        );
      return Buffer.from(reply.data.slice(0, length));
    });
  }

  #write(address: number, data: Uint8Array): Promise<void> {
    if (data.length > I2C_MAX_WRITE) {
      return Promise.reject(
        new HalError(
          'EDGEFLOW_HAL_UNSUPPORTED',
          `Firmata I2C writes at most ${I2C_MAX_WRITE} bytes (StandardFirmata's sysex buffer), not ${data.length}`,
          { details: { address } },
        ),
      );
    }
    return this.#link.run(`i2c write ${hex(address)}`, async (x) => {
      await this.#ensure(x);
      await x.send(i2cWrite(address, data));
      // The firmware does the whole Wire transaction before it reads the next message: its
      // answer to this query means the write is on the bus (so a driver's wait starts after).
      await x.send(pinStateQuery(this.#fencePin));
      await x.expect(
        'I2C write fence',
        (m) => (m.kind === 'pinState' ? m : undefined),
        this.#timeoutMs,
      );
    });
  }

  readByte(a: number, r: number): Promise<number> {
    return this.#read(a, r, 1).then((b) => b[0] ?? 0);
  }
  writeByte(a: number, r: number, v: number): Promise<void> {
    return this.#write(a, Uint8Array.of(r, v & 0xff));
  }
  readWord(a: number, r: number): Promise<number> {
    // SMBus word order: low byte first on the wire.
    return this.#read(a, r, 2).then((b) => b.readUInt16LE(0));
  }
  writeWord(a: number, r: number, v: number): Promise<void> {
    return this.#write(a, Uint8Array.of(r, v & 0xff, (v >> 8) & 0xff));
  }
  readBlock(a: number, r: number, n: number): Promise<Buffer> {
    return this.#read(a, r, n);
  }
  writeBlock(a: number, r: number, d: Uint8Array): Promise<void> {
    return this.#write(a, Uint8Array.of(r, ...d));
  }
  read(a: number, n: number): Promise<Buffer> {
    return this.#read(a, undefined, n);
  }
  write(a: number, d: Uint8Array): Promise<void> {
    return this.#write(a, d);
  }

  /** Like `i2cdetect -r`: a one-byte read at every address; those that answer are listed. */
  async scan(): Promise<number[]> {
    const found: number[] = [];
    for (let a = 0x03; a <= 0x77; a++) {
      try {
        await this.#read(a, undefined, 1);
        found.push(a);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENXIO') throw err;
      }
    }
    return found;
  }

  /** The link belongs to the process-wide registry, not to this bus. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
