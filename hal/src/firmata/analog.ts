import { HalError } from '../errors.js';
import type { AnalogReport, FirmataLink } from './link.js';
import { PinMode, reportAnalog } from './protocol.js';

/** One analog sample: raw ADC code, its full scale, and when the host read it. */
export interface AnalogSample {
  readonly raw: number;
  /** Largest code (1023 for the AVR's 10-bit ADC, from the capability query). */
  readonly fullScale: number;
  readonly timestampNs: bigint;
}

/**
 * An analog input of the co-processor: ANALOG_MESSAGE reports, sent by the firmware every
 * sampling interval (19 ms by default) once REPORT_ANALOG is on. `read()` gives the latest one,
 * or waits for the next when the latest is older than `maxAgeMs`.
 */
export class FirmataAnalogInput {
  readonly pin: number;
  readonly channel: number;
  readonly #link: FirmataLink;
  readonly #maxAgeNs: bigint;
  readonly #timeoutMs: number;
  readonly #now: () => bigint;

  private constructor(link: FirmataLink, pin: number, channel: number, o: Required<AnalogOptions>) {
    this.#link = link;
    this.pin = pin;
    this.channel = channel;
    this.#maxAgeNs = BigInt(o.maxAgeMs) * 1_000_000n;
    this.#timeoutMs = o.timeoutMs;
    this.#now = o.now;
  }

  /** Claims `pin` (Arduino number) as an analog input and turns its reporting on. */
  static async open(
    link: FirmataLink,
    pin: number,
    options: AnalogOptions = {},
  ): Promise<FirmataAnalogInput> {
    const o: Required<AnalogOptions> = {
      maxAgeMs: 250,
      timeoutMs: 1000,
      now: () => process.hrtime.bigint(),
      consumer: 'edgeflow',
      ...options,
    };
    return link.run(`analog firmata:${pin}`, async (x) => {
      const channel = x.firmware.analogChannels[pin];
      if (channel === undefined) {
        throw new HalError(
          'EDGEFLOW_HAL_UNSUPPORTED',
          `firmata:${pin} has no analog channel (analog mapping query)`,
          {
            details: { chip: 'firmata', pin: `firmata:${pin}` },
          },
        );
      }
      const claim = { use: 'analog' as const, channel };
      link.pins.check(x.firmware, pin, claim);
      link.pins.set(pin, claim, o.consumer);
      for (const msg of link.pins.applyPin(pin)) await x.send(msg);
      return new FirmataAnalogInput(link, pin, channel, o);
    });
  }

  /** Full scale of this channel's ADC, from the firmware's capability response. */
  #fullScale(): number {
    const bits = this.#link.firmware?.capabilities[this.pin]?.get(PinMode.ANALOG) ?? 10;
    return 2 ** bits - 1;
  }

  #sample(r: AnalogReport): AnalogSample {
    return { raw: r.value, fullScale: this.#fullScale(), timestampNs: r.timestampNs };
  }

  /** The latest report, or the next one when the latest is older than `maxAgeMs`. */
  read(): Promise<AnalogSample> {
    const last = this.#link.analogValue(this.channel);
    if (this.#link.state === 'ready' && last && this.#now() - last.timestampNs <= this.#maxAgeNs) {
      return Promise.resolve(this.#sample(last));
    }
    if (this.#link.state !== 'ready') {
      return Promise.reject(
        this.#link.lastError ??
          new HalError(
            'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
            `${this.#link.device}: link is ${this.#link.state}`,
            {
              details: { device: this.#link.device },
            },
          ),
      );
    }
    return this.next();
  }

  /** Waits for the next report of this channel (one sampling interval at most, normally). */
  next(): Promise<AnalogSample> {
    return new Promise((resolve, reject) => {
      const on = (r: AnalogReport): void => {
        if (r.channel !== this.channel) return;
        clearTimeout(timer);
        this.#link.off('analog', on);
        resolve(this.#sample(r));
      };
      const timer = setTimeout(() => {
        this.#link.off('analog', on);
        reject(
          new HalError(
            'EDGEFLOW_HAL_FIRMATA_TIMEOUT',
            `${this.#link.device}: no report of analog channel ${this.channel} (firmata:${this.pin}) within ${this.#timeoutMs} ms`,
            { details: { device: this.#link.device, pin: `firmata:${this.pin}` } },
          ),
        );
      }, this.#timeoutMs);
      this.#link.on('analog', on);
    });
  }

  /** Stops the reports and frees the pin. */
  async close(): Promise<void> {
    this.#link.pins.release(this.pin);
    if (this.#link.state !== 'ready') return;
    await this.#link
      .run(`release analog firmata:${this.pin}`, (x) => x.send(reportAnalog(this.channel, false)))
      .catch(() => undefined);
  }
}

/** Options of an analog input. */
export interface AnalogOptions {
  /** A report older than this is not returned; read() waits for the next one. */
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => bigint;
  readonly consumer?: string;
}
