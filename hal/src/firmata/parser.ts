import {
  ANALOG_MAPPING_RESPONSE,
  ANALOG_MESSAGE,
  CAPABILITY_RESPONSE,
  DIGITAL_MESSAGE,
  END_SYSEX,
  I2C_REPLY,
  NONE_7BIT,
  PIN_STATE_RESPONSE,
  REPORT_FIRMWARE,
  REPORT_VERSION,
  START_SYSEX,
  STRING_DATA,
} from './protocol.js';

/** What one pin of the board can do: mode value -> resolution in bits. */
export type PinCapability = ReadonlyMap<number, number>;

/** A message from the board, decoded. */
export type FirmataMessage =
  | { readonly kind: 'version'; readonly major: number; readonly minor: number }
  | { readonly kind: 'digital'; readonly port: number; readonly value: number }
  | { readonly kind: 'analog'; readonly channel: number; readonly value: number }
  | {
      readonly kind: 'firmware';
      readonly major: number;
      readonly minor: number;
      readonly name: string;
    }
  | { readonly kind: 'capabilities'; readonly pins: readonly PinCapability[] }
  /** Per pin: its analog channel, or undefined for a pin without one. */
  | { readonly kind: 'analogMapping'; readonly channels: readonly (number | undefined)[] }
  | {
      readonly kind: 'pinState';
      readonly pin: number;
      readonly mode: number;
      readonly state: number;
    }
  | {
      readonly kind: 'i2cReply';
      readonly address: number;
      readonly register: number;
      readonly data: readonly number[];
    }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'sysex'; readonly command: number; readonly data: Uint8Array };

/** A sysex longer than this is not Firmata (the largest reply, a capability response, is ~1 KB). */
const MAX_SYSEX = 4096;

/** Pairs of 7-bit bytes, LSB first, as 14-bit values. */
function pairs(data: Uint8Array, from: number): number[] {
  const out: number[] = [];
  for (let i = from; i + 1 < data.length; i += 2)
    out.push((data[i] ?? 0) | ((data[i + 1] ?? 0) << 7));
  return out;
}

function decodeSysex(command: number, data: Uint8Array): FirmataMessage {
  switch (command) {
    case REPORT_FIRMWARE:
      return {
        kind: 'firmware',
        major: data[0] ?? 0,
        minor: data[1] ?? 0,
        name: String.fromCharCode(...pairs(data, 2)),
      };
    case CAPABILITY_RESPONSE: {
      // Per pin: (mode, resolution) pairs, ended by 0x7F (capability-query.md).
      const pins: Map<number, number>[] = [];
      let current = new Map<number, number>();
      for (let i = 0; i < data.length;) {
        const b = data[i] ?? NONE_7BIT;
        if (b === NONE_7BIT) {
          pins.push(current);
          current = new Map();
          i += 1;
        } else {
          current.set(b, data[i + 1] ?? 0);
          i += 2;
        }
      }
      return { kind: 'capabilities', pins };
    }
    case ANALOG_MAPPING_RESPONSE:
      return {
        kind: 'analogMapping',
        channels: [...data].map((c) => (c === NONE_7BIT ? undefined : c)),
      };
    case PIN_STATE_RESPONSE: {
      // State is 1-3 7-bit bytes, LSB first (pin-state-query.md).
      let state = 0;
      for (let i = 2; i < data.length; i++) state |= (data[i] ?? 0) << (7 * (i - 2));
      return { kind: 'pinState', pin: data[0] ?? 0, mode: data[1] ?? 0, state };
    }
    case I2C_REPLY: {
      const v = pairs(data, 0);
      return {
        kind: 'i2cReply',
        address: v[0] ?? 0,
        register: v[1] ?? 0,
        data: v.slice(2).map((b) => b & 0xff),
      };
    }
    case STRING_DATA:
      return { kind: 'string', text: String.fromCharCode(...pairs(data, 0)).replace(/\0+$/, '') };
    default:
      return { kind: 'sysex', command, data };
  }
}

/**
 * Turns the byte stream from the board into messages. It resynchronises on any command byte
 * (a reset board or a half-read reply leaves partial messages), counts bytes that belong to no
 * message (so "this is not Firmata" can be told from "nothing answered"), and caps a sysex.
 */
export class FirmataParser {
  #command = -1;
  #data: number[] = [];
  #sysex = false;
  /** Bytes that were part of no decoded message. */
  strayBytes = 0;
  /** The first stray bytes, for diagnostics (what a wrong firmware said instead). */
  readonly strayPreview: number[] = [];

  #stray(n: number, bytes: number[] = []): void {
    this.strayBytes += n;
    for (const b of bytes) if (this.strayPreview.length < 32) this.strayPreview.push(b);
  }

  /** Feeds bytes; `emit` is called for every complete message, in order. */
  push(chunk: Uint8Array, emit: (m: FirmataMessage) => void): void {
    for (const b of chunk) {
      if (this.#sysex) {
        if (b === END_SYSEX) {
          this.#sysex = false;
          const [command = 0, ...rest] = this.#data;
          this.#data = [];
          emit(decodeSysex(command, Uint8Array.from(rest)));
          continue;
        }
        if (b < 0x80 && this.#data.length < MAX_SYSEX) {
          this.#data.push(b);
          continue;
        }
        // A command byte inside a sysex: the sysex was cut off (e.g. by a reset).
        this.#sysex = false;
        this.#stray(this.#data.length + 1, [START_SYSEX, ...this.#data]);
        this.#data = [];
        if (b < 0x80) continue;
      }
      if (b >= 0x80) {
        if (this.#command >= 0) this.#stray(1 + this.#data.length, [this.#command, ...this.#data]);
        this.#data = [];
        this.#command = -1;
        if (b === START_SYSEX) this.#sysex = true;
        else if (
          b === REPORT_VERSION ||
          (b & 0xf0) === DIGITAL_MESSAGE ||
          (b & 0xf0) === ANALOG_MESSAGE
        )
          this.#command = b;
        else this.#stray(1, [b]);
        continue;
      }
      if (this.#command < 0) {
        this.#stray(1, [b]);
        continue;
      }
      this.#data.push(b);
      if (this.#data.length < 2) continue;
      const [d0 = 0, d1 = 0] = this.#data;
      const c = this.#command;
      this.#command = -1;
      this.#data = [];
      if (c === REPORT_VERSION) emit({ kind: 'version', major: d0, minor: d1 });
      else if ((c & 0xf0) === DIGITAL_MESSAGE)
        emit({ kind: 'digital', port: c & 0x0f, value: (d0 | (d1 << 7)) & 0xff });
      else emit({ kind: 'analog', channel: c & 0x0f, value: d0 | (d1 << 7) });
    }
  }
}
