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
  /** Port bits of pins the HAL does not hold, as the board reported them (see learn()). */
  readonly #foreign = new Map<number, number>();
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

  /**
   * Forgets a claim. The pin keeps what it was doing (an output keeps its level, like a
   * released cdev line), and later port writes keep it that way.
   */
  release(pin: number): void {
    const c = this.#claims.get(pin);
    const port = pin >> 3;
    const known = this.#foreign.get(port);
    if (known !== undefined && c !== undefined) {
      const on = (c.use === 'output' && c.level === 1) || (c.use === 'input' && c.pullUp);
      const bit = 1 << (pin & 7);
      this.#foreign.set(port, on ? known | bit : known & ~bit);
    }
    this.#claims.delete(pin);
    this.#owners.delete(pin);
  }

  /** True until learn() was given this port's unheld pins (per connection). */
  needsLearning(port: number): boolean {
    return !this.#foreign.has(port);
  }

  /** Pins of `port` the HAL does not hold (their state must be asked before a port write). */
  unheld(board: BoardPins, port: number): number[] {
    const out: number[] = [];
    for (let pin = port * 8; pin < port * 8 + 8; pin++) {
      const caps = board.capabilities[pin];
      if (caps && (caps.has(PinMode.INPUT) || caps.has(PinMode.OUTPUT)) && !this.#claims.has(pin))
        out.push(pin);
    }
    return out;
  }

  /** Records the board's bits of the unheld pins of `port` (output level or pull-up). */
  learn(port: number, bits: number): void {
    this.#foreign.set(port, bits);
  }

  /** After a (re)connect or an MCU reset the board's unheld pins are unknown again. */
  forgetBoardState(): void {
    this.#foreign.clear();
  }

  enableI2c(): void {
    this.#i2c = true;
  }

  /**
   * The port byte for a DIGITAL_MESSAGE: outputs carry their level, inputs a 1 where their
   * pull-up is wanted (StandardFirmata treats a 1 on an INPUT pin as "pull-up on"), and pins
   * the HAL does not hold what the board said they have (so a write leaves them alone). Never
   * the inputs' values: writing a 1 that was read from an input would switch that input's
   * pull-up on (the defect of mirroring reads into the port byte).
   */
  portImage(port: number): number {
    let v = this.#foreign.get(port) ?? 0;
    for (let bit = 0; bit < 8; bit++) {
      const c = this.#claims.get(port * 8 + bit);
      if (c === undefined) continue;
      if ((c.use === 'output' && c.level === 1) || (c.use === 'input' && c.pullUp)) v |= 1 << bit;
      else v &= ~(1 << bit);
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
    if (!c) return [];
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
