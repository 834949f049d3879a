import { HalError } from '../errors.js';
import { LineBase, LineRegistry } from '../gpio/line-base.js';
import type { GpioCapabilities, GpioChip, GpioLine, LineConfig, LineValue } from '../gpio/types.js';
import type { PortReport } from './link.js';
import type { FirmataLink } from './link.js';
import type { PinClaim } from './pin-table.js';
import { PinMode, digitalPortWrite, reportDigital } from './protocol.js';

/** Label of the co-processor's "chip": header pins on it are Firmata (Arduino) pin numbers. */
export const FIRMATA_CHIP_LABEL = 'firmata';

function where(pin: number): string {
  return `${FIRMATA_CHIP_LABEL}:${pin}`;
}

function ioError(pin: number, message: string, device: string): HalError {
  return new HalError('EDGEFLOW_HAL_GPIO_IO', `${where(pin)}: ${message}`, {
    details: { chip: FIRMATA_CHIP_LABEL, pin: where(pin), device },
  });
}

class FirmataLine extends LineBase {
  readonly #link: FirmataLink;
  readonly #pin: number;
  readonly #activeLow: boolean;
  /** Last electrical level seen on an input (edges are changes of it). */
  #level: 0 | 1 | undefined;
  #seqno = 0;
  readonly #onReport: (r: PortReport) => void;

  constructor(link: FirmataLink, pin: number, config: LineConfig, onClose: () => void) {
    super(FIRMATA_CHIP_LABEL, pin, config, onClose);
    this.#link = link;
    this.#pin = pin;
    this.#activeLow = config.activeLow ?? false;
    this.#onReport = (r) => this.#report(r);
    if (config.direction === 'input') link.on('digital', this.#onReport);
  }

  /** Sets the level read by the request's fence, before any edge is reported. */
  initLevel(level: 0 | 1): void {
    this.#level = level;
  }

  #report(r: PortReport): void {
    if (r.port !== this.#pin >> 3) return;
    const level = ((r.value >> (this.#pin & 7)) & 1) as 0 | 1;
    const before = this.#level;
    this.#level = level;
    if (before === undefined || before === level) return;
    const value = (level ^ (this.#activeLow ? 1 : 0)) as LineValue;
    const edge = value === 1 ? 'rising' : 'falling';
    const want = this.config.edge ?? 'none';
    if (want === 'none' || (want !== 'both' && want !== edge)) return;
    this.#seqno += 1;
    this.emitEdge({
      offset: this.#pin,
      edge,
      value,
      timestampNs: r.timestampNs,
      seqno: this.#seqno,
    });
  }

  protected readValue(): Promise<LineValue> {
    const pin = this.#pin;
    return this.#link.run(`get ${where(pin)}`, async (x) => {
      const st = await this.#link.pinState(x, pin);
      let level: number;
      if (this.config.direction === 'output') {
        if (st.mode !== PinMode.OUTPUT)
          throw ioError(
            pin,
            `the board reports mode ${st.mode}, not OUTPUT (did the MCU reset?)`,
            this.#link.device,
          );
        level = st.state & 1;
      } else {
        if (st.mode !== PinMode.INPUT)
          throw ioError(
            pin,
            `the board reports mode ${st.mode}, not INPUT (did the MCU reset?)`,
            this.#link.device,
          );
        const port = this.#link.portValue(pin >> 3);
        if (port === undefined)
          throw ioError(pin, 'the board has not reported this port', this.#link.device);
        level = (port >> (pin & 7)) & 1;
      }
      return (level ^ (this.#activeLow ? 1 : 0)) as LineValue;
    });
  }

  protected writeValue(value: LineValue): Promise<void> {
    const pin = this.#pin;
    const level = (value ^ (this.#activeLow ? 1 : 0)) as 0 | 1;
    return this.#link.run(`set ${where(pin)}`, async (x) => {
      const table = this.#link.pins;
      table.update(pin, { use: 'output', level });
      await this.#link.learnPort(x, pin >> 3);
      await x.send(digitalPortWrite(pin >> 3, table.portImage(pin >> 3)));
      // Read back: a write is done once the board reports the pin at the new level.
      const st = await this.#link.pinState(x, pin);
      if (st.mode !== PinMode.OUTPUT || st.state !== level) {
        throw ioError(
          pin,
          `wrote ${level}, the board reports mode ${st.mode} state ${st.state}`,
          this.#link.device,
        );
      }
    });
  }

  protected async release(): Promise<void> {
    this.#link.off('digital', this.#onReport);
    const pin = this.#pin;
    const table = this.#link.pins;
    // The pin keeps its mode and level on the board (like a released cdev line: `edgeflow hal
    // gpio set` must leave the pin set); only the port's reporting stops with its last input.
    table.release(pin);
    if (this.#link.state !== 'ready' || table.hasInputs(pin >> 3)) return;
    await this.#link
      .run(`release ${where(pin)}`, (x) => x.send(reportDigital(pin >> 3, false)))
      .catch(() => undefined);
  }
}

/**
 * The Firmata backend's GpioChip: the co-processor's pins (Arduino numbering) over its serial
 * link. Outputs are read back after every write; inputs are reported by the firmware on
 * change, with host timestamps (Firmata carries none); bias is the AVR's pull-up only.
 */
export class FirmataGpioChip implements GpioChip {
  readonly backend = 'firmata' as const;
  readonly label = FIRMATA_CHIP_LABEL;
  readonly capabilities: GpioCapabilities = {
    bias: true,
    debounce: false,
    kernelTimestamps: false,
  };
  readonly link: FirmataLink;
  readonly #lines = new LineRegistry();

  constructor(link: FirmataLink) {
    this.link = link;
  }

  /** Pins the firmware reports (0 before the first connection). */
  get lines(): number {
    return this.link.firmware?.capabilities.length ?? 0;
  }

  #refuse(pin: number, code: 'EDGEFLOW_HAL_UNSUPPORTED', why: string): Promise<never> {
    return Promise.reject(
      new HalError(code, `${where(pin)}: ${why}`, {
        details: { chip: FIRMATA_CHIP_LABEL, pin: where(pin) },
      }),
    );
  }

  requestLine(offset: number, config: LineConfig): Promise<GpioLine> {
    const bias = config.bias ?? 'as-is';
    if (bias === 'pull-down')
      return this.#refuse(
        offset,
        'EDGEFLOW_HAL_UNSUPPORTED',
        'the co-processor has pull-ups only (no pull-down)',
      );
    if ((config.debounceMs ?? 0) > 0)
      return this.#refuse(
        offset,
        'EDGEFLOW_HAL_UNSUPPORTED',
        'Firmata has no debounce; set debounceMs to 0',
      );
    const electrical = ((config.initial ?? 0) ^ (config.activeLow ? 1 : 0)) as 0 | 1;
    const claim: PinClaim =
      config.direction === 'output'
        ? { use: 'output', level: electrical }
        : { use: 'input', pullUp: bias === 'pull-up' };
    const table = this.link.pins;
    return this.link.run(`request ${where(offset)}`, async (x) => {
      table.check(x.firmware, offset, claim);
      await this.link.learnPort(x, offset >> 3);
      table.set(offset, claim, config.consumer ?? 'edgeflow');
      try {
        for (const msg of table.applyPin(offset)) await x.send(msg);
        const st = await this.link.pinState(x, offset);
        const want =
          claim.use === 'output'
            ? [PinMode.OUTPUT, claim.level]
            : [PinMode.INPUT, claim.pullUp ? 1 : 0];
        if (st.mode !== want[0] || st.state !== want[1])
          throw ioError(
            offset,
            `requested ${claim.use}, the board reports mode ${st.mode} state ${st.state}`,
            this.link.device,
          );
      } catch (err) {
        table.release(offset);
        // Half-applied: what the board holds on this port is no longer known.
        table.forgetBoardState();
        throw err;
      }
      const line = new FirmataLine(this.link, offset, config, () => this.#lines.remove(line));
      if (claim.use === 'input') {
        const port = this.link.portValue(offset >> 3) ?? 0;
        line.initLevel(((port >> (offset & 7)) & 1) as 0 | 1);
      }
      this.#lines.add(line);
      return line;
    });
  }

  close(): Promise<void> {
    return this.#lines.closeAll();
  }
}
