import { HalError } from '../errors.js';
import { LineBase, LineRegistry } from './line-base.js';
import { mapGpioError } from './map-error.js';
import type { GpioCapabilities, GpioChip, GpioLine, LineConfig, LineValue } from './types.js';

/** The part of onoff's Gpio the sysfs backend uses (onoff is an optional dependency). */
export interface OnoffGpio {
  read(): Promise<number>;
  write(value: number): Promise<void>;
  watch(callback: (err: Error | null | undefined, value: number) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** onoff's Gpio constructor. */
export type OnoffGpioCtor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
  options?: { debounceTimeout?: number; activeLow?: boolean; reconfigureDirection?: boolean },
) => OnoffGpio;

class SysfsLine extends LineBase {
  readonly #gpio: OnoffGpio;
  #seqno = 0;

  constructor(
    chip: string,
    offset: number,
    config: LineConfig,
    gpio: OnoffGpio,
    now: () => bigint,
    onClose: () => void,
  ) {
    super(chip, offset, config, onClose);
    this.#gpio = gpio;
    if (config.direction === 'input' && (config.edge ?? 'none') !== 'none') {
      gpio.watch((err, value) => {
        if (err) return;
        this.#seqno += 1;
        // sysfs gives no kernel timestamp: the host monotonic clock is the best we have.
        this.emitEdge({
          offset,
          edge: value ? 'rising' : 'falling',
          value: value ? 1 : 0,
          timestampNs: now(),
          seqno: this.#seqno,
        });
      });
    }
  }

  protected async readValue(): Promise<LineValue> {
    try {
      return (await this.#gpio.read()) ? 1 : 0;
    } catch (err) {
      throw mapGpioError(err, 'get', this.chip, this.offset);
    }
  }

  protected async writeValue(value: LineValue): Promise<void> {
    try {
      await this.#gpio.write(value);
    } catch (err) {
      throw mapGpioError(err, 'set', this.chip, this.offset);
    }
  }

  protected release(): Promise<void> {
    this.#gpio.unwatchAll();
    try {
      this.#gpio.unexport();
    } catch {
      // unexport of an already released line: nothing to do
    }
    return Promise.resolve();
  }
}

/**
 * The `sysfs` backend via onoff, for kernels where /sys/class/gpio is the only
 * interface. The sysfs number is always chip base + offset, with the base read
 * from /sys/class/gpio/gpiochip<base> of the chip found by label (never a BCM or
 * hard-coded number: the Pi 5 base moved from 399 to 571 between kernels).
 * Sysfs cannot set bias, so a bias other than 'as-is' is refused.
 */
export class SysfsGpioChip implements GpioChip {
  readonly backend = 'sysfs' as const;
  readonly capabilities: GpioCapabilities = {
    bias: false,
    debounce: true,
    kernelTimestamps: false,
  };
  readonly label: string;
  readonly lines: number;
  readonly base: number;
  readonly #Gpio: OnoffGpioCtor;
  readonly #now: () => bigint;
  readonly #held = new Set<number>();
  readonly #lines = new LineRegistry();

  constructor(
    chip: { label: string; lines: number; base: number },
    Gpio: OnoffGpioCtor,
    now: () => bigint = () => process.hrtime.bigint(),
  ) {
    this.label = chip.label;
    this.lines = chip.lines;
    this.base = chip.base;
    this.#Gpio = Gpio;
    this.#now = now;
  }

  /** The sysfs GPIO number of a line of this chip. */
  sysfsNumber(offset: number): number {
    return this.base + offset;
  }

  requestLine(offset: number, config: LineConfig): Promise<GpioLine> {
    const where = `${this.label}:${offset}`;
    if (offset < 0 || offset >= this.lines) {
      return Promise.reject(
        new HalError('EDGEFLOW_HAL_UNKNOWN_PIN', `${where}: chip has ${this.lines} lines`, {
          details: { chip: this.label, pin: where },
        }),
      );
    }
    if ((config.bias ?? 'as-is') !== 'as-is') {
      return Promise.reject(
        new HalError('EDGEFLOW_HAL_UNSUPPORTED', `${where}: sysfs GPIO cannot set bias`, {
          details: { chip: this.label, pin: where },
        }),
      );
    }
    // sysfs export is not exclusive within one process: enforce it here as cdev does.
    if (this.#held.has(offset)) {
      return Promise.reject(mapGpioError({ code: 'EBUSY' }, 'request', this.label, offset));
    }
    try {
      // onoff's 'high'/'low' are electrical levels (sysfs writes them before active_low is
      // applied), while `initial` is logical: invert for active-low lines.
      const electricalHigh = ((config.initial ?? 0) === 1) !== (config.activeLow ?? false);
      const direction = config.direction === 'input' ? 'in' : electricalHigh ? 'high' : 'low';
      const edge = config.direction === 'input' ? (config.edge ?? 'none') : 'none';
      const gpio = new this.#Gpio(this.sysfsNumber(offset), direction, edge, {
        activeLow: config.activeLow ?? false,
        debounceTimeout: config.debounceMs ?? 0,
        reconfigureDirection: true,
      });
      this.#held.add(offset);
      const line: GpioLine = new SysfsLine(this.label, offset, config, gpio, this.#now, () => {
        this.#held.delete(offset);
        this.#lines.remove(line);
      });
      this.#lines.add(line);
      return Promise.resolve(line);
    } catch (err) {
      return Promise.reject(mapGpioError(err, 'request', this.label, offset));
    }
  }

  close(): Promise<void> {
    return this.#lines.closeAll();
  }
}
