// A serial link that answers from recorded exchanges, for the cases real firmware cannot be
// made to show on demand (a reply that never comes, a firmware without the capability query).
// The answers are bytes recorded from StandardFirmata 2.4 in the simavr rig
// (test/fixtures/firmata/standardfirmata-2.4-uno.json) or edits of them, said where used.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SerialLink } from '../../src/firmata/serial.js';

/** A recorded request and what the firmware sent back. */
export interface Recorded {
  readonly name: string;
  readonly request: string;
  readonly response: string;
}

/** The recorded exchanges with StandardFirmata 2.4, by name. */
export function recording(): { boot: string; byName: (name: string) => Recorded } {
  const path = fileURLToPath(
    new URL('../../../test/fixtures/firmata/standardfirmata-2.4-uno.json', import.meta.url),
  );
  const rec = JSON.parse(readFileSync(path, 'utf8')) as { boot: string; exchanges: Recorded[] };
  return {
    boot: rec.boot,
    byName: (name) => {
      const r = rec.exchanges.find((e) => e.name === name);
      if (!r) throw new Error(`no recorded exchange "${name}"`);
      return r;
    },
  };
}

/** Answers a written chunk (hex) with bytes (hex) or nothing. */
export type Responder = (requestHex: string, link: ScriptedSerial) => string | undefined;

export class ScriptedSerial implements SerialLink {
  readonly path: string;
  readonly written: string[] = [];
  readonly #data: ((b: Buffer) => void)[] = [];
  readonly #close: ((disconnected: boolean) => void)[] = [];
  #respond: Responder;
  closed = false;

  constructor(respond: Responder, path = '/dev/ttyFAKE0') {
    this.#respond = respond;
    this.path = path;
  }

  /** Replaces the responder (the "firmware" changes its mind, e.g. stops answering). */
  set responder(r: Responder) {
    this.#respond = r;
  }

  write(data: Uint8Array): Promise<void> {
    const req = Buffer.from(data).toString('hex');
    this.written.push(req);
    const answer = this.#respond(req, this);
    if (answer !== undefined && answer.length > 0) setImmediate(() => this.send(answer));
    return Promise.resolve();
  }

  /** Bytes from the "firmware", unasked. */
  send(hex: string): void {
    if (this.closed) return;
    for (const l of this.#data) l(Buffer.from(hex, 'hex'));
  }

  onData(l: (b: Buffer) => void): void {
    this.#data.push(l);
  }
  onClose(l: (disconnected: boolean) => void): void {
    this.#close.push(l);
  }
  /** The device goes away. */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.#close) l(true);
  }
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const l of this.#close) l(false);
    }
    return Promise.resolve();
  }
}

/** The recorded answers by request (hex): version+firmware, capability, analog mapping. */
export const recordedAnswers = (
  rec: ReturnType<typeof recording> = recording(),
): Record<string, string> => ({
  f9f079f7: rec.byName('version+firmware').response,
  f06bf7: rec.byName('capability').response,
  f069f7: rec.byName('analog mapping').response,
  f079f7: rec.boot.slice(6), // REPORT_FIRMWARE alone: the firmware part of the announcement
});

/** StandardFirmata as recorded, plus pin states from a tiny model of port 0. */
export function firmware(): Responder {
  const known = recordedAnswers();
  const mode = new Map<number, number>();
  let port0 = 0;
  return (req) => {
    const answer = known[req];
    if (answer !== undefined) return answer;
    const bytes = Buffer.from(req, 'hex');
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0xf4) mode.set(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0);
      if (bytes[i] === 0x90) port0 = (bytes[i + 1] ?? 0) | ((bytes[i + 2] ?? 0) << 7);
    }
    const q = /^f06d([0-9a-f]{2})f7$/.exec(req);
    if (!q) return undefined;
    const pin = parseInt(q[1] ?? '0', 16);
    const state = pin < 8 ? (port0 >> pin) & 1 : 0;
    return `f06e${q[1]}${(mode.get(pin) ?? 1).toString(16).padStart(2, '0')}0${state}f7`;
  };
}
