import { HalError } from '../errors.js';
import type { PinCapability } from './parser.js';
import {
  PinMode,
  digitalPortWrite,
  i2cConfig,
  reportAnalog,
  reportDigital,
  setPinMode,
} from './protocol.js';

/** What the HAL has asked of one pin of the co-processor: the state a reconnect restores. */
export type PinClaim =
  | { readonly use: 'input'; readonly pullUp: boolean }
  | { readonly use: 'output'; readonly level: 0 | 1 }
  | { readonly use: 'analog'; readonly channel: number }
  | { readonly use: 'i2c' };

/** The board's pins as its firmware describes them (capability and analog mapping queries). */
export interface BoardPins {
  readonly capabilities: readonly PinCapability[];
  readonly analogChannels: readonly (number | undefined)[];
}

/**
 * The desired state of every claimed pin, and the Firmata messages that establish it. One table
 * per link: it outlives the serial connection, so a USB reset or an MCU reset can be followed
 * by exactly the same configuration.
 */
export class PinTable {
  readonly #claims = new Map<number, PinClaim>();
  readonly #owners = new Map<number, string>();
  #i2c = false;

  get i2cEnabled(): boolean {
    return this.#i2c;
  }

  claim(pin: number): PinClaim | undefined {
    return this.#claims.get(pin);
  }

  owner(pin: number): string | undefined {
    return this.#owners.get(pin);
  }

  /** Every claimed pin, in pin order. */
  entries(): [number, PinClaim][] {
    return [...this.#claims.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Refuses a pin the board lacks, a mode the firmware does not offer, or a pin in use. */
  check(board: BoardPins, pin: number, claim: PinClaim): void {
    const caps = board.capabilities[pin];
    const where = `firmata:${pin}`;
    if (caps === undefined || caps.size === 0) {
      throw new HalError(
        'EDGEFLOW_HAL_UNKNOWN_PIN',
        `${where}: the co-processor's firmware has no pin ${pin} (it reports ${board.capabilities.length} pins)`,
        { details: { chip: 'firmata', pin: where } },
      );
    }
    const mode =
      claim.use === 'input'
        ? PinMode.INPUT
        : claim.use === 'output'
          ? PinMode.OUTPUT
          : claim.use === 'analog'
            ? PinMode.ANALOG
            : PinMode.I2C;
    if (!caps.has(mode)) {
      throw new HalError(
        'EDGEFLOW_HAL_UNSUPPORTED',
        `${where}: the firmware does not offer ${claim.use} on this pin (modes: ${[...caps.keys()].join(', ')})`,
        { details: { chip: 'firmata', pin: where } },
      );
    }
    const holder = this.#owners.get(pin);
    if (holder !== undefined) {
      throw new HalError('EDGEFLOW_HAL_LINE_BUSY', `${where}: already in use by ${holder}`, {
        details: { chip: 'firmata', pin: where },
      });
    }
  }

  set(pin: number, claim: PinClaim, who: string): void {
    this.#claims.set(pin, claim);
    this.#owners.set(pin, who);
  }

  /** Updates an existing claim (an output's level) without changing its owner. */
  update(pin: number, claim: PinClaim): void {
    if (this.#claims.has(pin)) this.#claims.set(pin, claim);
  }

  release(pin: number): void {
    this.#claims.delete(pin);
    this.#owners.delete(pin);
  }

  enableI2c(): void {
    this.#i2c = true;
  }

  /**
   * The port byte for a DIGITAL_MESSAGE: outputs carry their level, inputs a 1 where their
   * pull-up is wanted (StandardFirmata treats a 1 on an INPUT pin as "pull-up on"), every
   * other pin a 0. Never the inputs' values: writing a 1 that was read from an input would
   * switch that input's pull-up on (the defect of mirroring reads into the port byte).
   */
  portImage(port: number): number {
    let v = 0;
    for (let bit = 0; bit < 8; bit++) {
      const c = this.#claims.get(port * 8 + bit);
      if ((c?.use === 'output' && c.level === 1) || (c?.use === 'input' && c.pullUp)) v |= 1 << bit;
    }
    return v;
  }

  /** True when any claimed input lives on this port (its reporting must stay on). */
  hasInputs(port: number): boolean {
    for (let bit = 0; bit < 8; bit++)
      if (this.#claims.get(port * 8 + bit)?.use === 'input') return true;
    return false;
  }

  /**
   * Messages that put one pin into its claimed state. For an output the port byte goes first
   * (so switching to OUTPUT drives the wanted level at once, no glitch) and again after the mode
   * change (so the firmware's own record of the pin state matches).
   */
  applyPin(pin: number): Uint8Array[] {
    const c = this.#claims.get(pin);
    const port = pin >> 3;
    if (!c) return [setPinMode(pin, PinMode.INPUT), digitalPortWrite(port, this.portImage(port))];
    switch (c.use) {
      case 'output':
        return [
          digitalPortWrite(port, this.portImage(port)),
          setPinMode(pin, PinMode.OUTPUT),
          digitalPortWrite(port, this.portImage(port)),
        ];
      case 'input':
        // SET_PIN_MODE INPUT also switches the pull-up off; the port byte switches it on.
        return [
          setPinMode(pin, PinMode.INPUT),
          ...(c.pullUp ? [digitalPortWrite(port, this.portImage(port))] : []),
          reportDigital(port, true),
        ];
      case 'analog':
        return [setPinMode(pin, PinMode.ANALOG), reportAnalog(c.channel, true)];
      case 'i2c':
        return [];
    }
  }

  /** Everything a fresh or reset co-processor needs to be back in the claimed state. */
  restoreMessages(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.#i2c) out.push(i2cConfig());
    for (const [pin] of this.entries()) out.push(...this.applyPin(pin));
    return out;
  }
}
