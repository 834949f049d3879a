import { EventEmitter } from 'node:events';
import { HalError } from '../errors.js';
import type { BackoffOptions } from '../poller/backoff.js';
import { Backoff } from '../poller/backoff.js';
import type { Exchange, FirmwareInfo } from './handshake.js';
import { handshake } from './handshake.js';
import type { FirmataMessage } from './parser.js';
import { FirmataParser } from './parser.js';
import { PinTable } from './pin-table.js';
import { firstMismatch, learnPort, queryPin, restorePins } from './pin-sync.js';
import { queryFirmware } from './protocol.js';
import type { SerialLink, SerialOpener } from './serial.js';
import { loadSerialOpener } from './serial.js';

/** connecting: opening + handshake; ready: usable; down: lost, a reconnect is scheduled. */
export type LinkState = 'connecting' | 'ready' | 'down' | 'closed';

/** A port report (DIGITAL_MESSAGE) with the host time it was read at. */
export interface PortReport {
  readonly port: number;
  readonly value: number;
  /** Host monotonic clock, ns: Firmata carries no timestamps. */
  readonly timestampNs: bigint;
}

/** An analog report (ANALOG_MESSAGE). */
export interface AnalogReport {
  readonly channel: number;
  readonly value: number;
  readonly timestampNs: bigint;
}

/** Typed events of a link. */
export interface FirmataLinkEvents {
  state: [LinkState, HalError | undefined];
  /** After every successful (re)connect, and after an MCU reset, once the pins are restored. */
  ready: [FirmwareInfo];
  digital: [PortReport];
  analog: [AnalogReport];
}

/** How a link finds, opens and keeps its co-processor. Every field but `locate` has a default. */
export interface FirmataLinkOptions {
  /** The serial device, looked up again before every reconnect (ttyACM0 may become ttyACM1). */
  readonly locate: () => Promise<string>;
  readonly open?: () => Promise<SerialOpener>;
  /** Oldest Firmata protocol accepted (default 2.3: the oldest StandardFirmata tested). */
  readonly minProtocol?: readonly [number, number];
  readonly handshakeTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly reconnect?: BackoffOptions;
  /** Monotonic ns for report timestamps. */
  readonly now?: () => bigint;
  /** Monotonic ms for deadlines. */
  readonly clock?: () => number;
  readonly random?: () => number;
}

/** One request/response conversation on the link, run alone in its queue. */
export interface LinkExchange extends Exchange {
  readonly firmware: FirmwareInfo;
  /** STRING_DATA messages the firmware sent during this exchange (StandardFirmata's I2C errors). */
  readonly strings: readonly string[];
}

const DEFAULT_BACKOFF: BackoffOptions = { minMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };

interface Waiter {
  readonly match: (m: FirmataMessage) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: HalError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The serial link to a Firmata co-processor: one per device for the whole process, one FIFO
 * queue for every request on it (GPIO, I2C, queries), typed reports, and a reconnect loop that
 * restores every claimed pin after a USB reset or an MCU reset.
 */
export class FirmataLink extends EventEmitter<FirmataLinkEvents> {
  /** Desired pin states: survives reconnects. */
  readonly pins = new PinTable();
  readonly #o: Required<Omit<FirmataLinkOptions, 'open'>> & Pick<FirmataLinkOptions, 'open'>;
  readonly #backoff: Backoff;
  readonly #ports = new Map<number, number>();
  readonly #analog = new Map<number, AnalogReport>();
  #state: LinkState = 'down';
  #error: HalError | undefined;
  #serial: SerialLink | undefined;
  #device = '';
  #firmware: FirmwareInfo | undefined;
  #parser = new FirmataParser();
  #waiter: Waiter | undefined;
  #strings: string[] = [];
  #tail: Promise<unknown> = Promise.resolve();
  #handshaking = false;
  #needs: 'none' | 'resync' | 'verify' = 'none';
  #reconnectTimer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: FirmataLinkOptions) {
    super();
    this.#o = {
      minProtocol: [2, 3],
      handshakeTimeoutMs: 6000,
      requestTimeoutMs: 1000,
      reconnect: DEFAULT_BACKOFF,
      now: () => process.hrtime.bigint(),
      clock: () => performance.now(),
      random: Math.random,
      ...options,
    };
    this.#backoff = new Backoff(this.#o.reconnect, this.#o.random);
    // Every input line listens to the port reports: one listener per pin, by design.
    this.setMaxListeners(256);
  }

  get state(): LinkState {
    return this.#state;
  }
  /** The serial device of the current (or last) connection. */
  get device(): string {
    return this.#device;
  }
  get firmware(): FirmwareInfo | undefined {
    return this.#firmware;
  }
  /** Why the link is not ready, when it is not. */
  get lastError(): HalError | undefined {
    return this.#error;
  }
  /** The last reported value of a digital port. */
  portValue(port: number): number | undefined {
    return this.#ports.get(port);
  }
  /** The last analog report of a channel. */
  analogValue(channel: number): AnalogReport | undefined {
    return this.#analog.get(channel);
  }

  /** A method, not a comparison: close() may run during any await of a connect. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #setState(s: LinkState, err?: HalError): void {
    this.#state = s;
    this.#error = err;
    this.emit('state', s, err);
  }

  /**
   * Connects (first time or after a loss) and restores the claimed pins. A failure schedules
   * a retry with backoff and rejects with the coded reason (MCU_NOT_FOUND, SERIAL_BUSY,
   * FIRMATA_NO_FIRMWARE, FIRMATA_VERSION, ...).
   */
  connect(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    this.#connecting ??= this.#connectOnce().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connectOnce(): Promise<void> {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#setState('connecting');
    try {
      this.#device = await this.#o.locate();
      const open = await (this.#o.open ?? (() => loadSerialOpener()))();
      const serial = await open(this.#device);
      if (this.#isClosed()) {
        // close() came while the device was being opened: nobody will close this port later.
        await serial.close().catch(() => undefined);
        throw this.#closedError();
      }
      this.#attach(serial);
      this.#handshaking = true;
      try {
        this.#firmware = await handshake(this.#exchange(), {
          device: this.#device,
          minProtocol: this.#o.minProtocol,
          timeoutMs: this.#o.handshakeTimeoutMs,
          now: this.#o.clock,
          stray: () => ({ bytes: this.#parser.strayBytes, preview: this.#parser.strayPreview }),
        });
      } finally {
        this.#handshaking = false;
      }
      await this.#restore(this.#exchange());
      if (this.#isClosed()) throw this.#closedError();
      this.#backoff.reset();
      this.#needs = 'none';
      this.#setState('ready');
      this.emit('ready', this.#firmware);
    } catch (err) {
      throw await this.#drop(err);
    }
  }

  /**
   * Ends the connection after a failure: 'down' with the reason and a reconnect scheduled,
   * unless close() came meanwhile (a closed link never reconnects). Returns the coded reason.
   */
  async #drop(err: unknown): Promise<HalError> {
    const e = toLinkError(err, this.#device);
    await this.#detach();
    if (this.#state !== 'closed') {
      this.#setState('down', e);
      this.#scheduleReconnect();
    }
    return e;
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed' || this.#reconnectTimer) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      // Failures are kept in lastError/state events; the loop goes on until it succeeds.
      this.connect().catch(() => undefined);
    }, this.#backoff.next());
    this.#reconnectTimer.unref();
  }

  #attach(serial: SerialLink): void {
    this.#serial = serial;
    this.#parser = new FirmataParser();
    this.#ports.clear();
    serial.onData((chunk) => {
      const ts = this.#o.now();
      this.#parser.push(chunk, (m) => this.#onMessage(m, ts));
    });
    serial.onClose((disconnected) => {
      if (this.#serial !== serial) return;
      this.#serial = undefined;
      if (this.#state === 'closed') return;
      const err = new HalError(
        'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
        `${serial.path}: ${disconnected ? 'the device went away (USB reset or unplug)' : 'the serial link closed'}; reconnecting`,
        { details: { device: serial.path } },
      );
      this.#failWaiter(err);
      if (this.#state === 'ready') {
        this.#setState('down', err);
        this.#scheduleReconnect();
      }
    });
  }

  async #detach(): Promise<void> {
    const s = this.#serial;
    this.#serial = undefined;
    if (s) await s.close().catch(() => undefined);
  }

  #onMessage(m: FirmataMessage, timestampNs: bigint): void {
    if (m.kind === 'digital') {
      this.#ports.set(m.port, m.value);
      this.emit('digital', { port: m.port, value: m.value, timestampNs });
    } else if (m.kind === 'analog') {
      const r = { channel: m.channel, value: m.value, timestampNs };
      this.#analog.set(m.channel, r);
      this.emit('analog', r);
    } else if (m.kind === 'string') {
      this.#strings.push(m.text);
    } else if (m.kind === 'firmware' && !this.#handshaking && this.#needs === 'none') {
      // A firmware report nobody asked for: the MCU may have reset (it announces itself at
      // boot). Check the claimed pins before the next request, and restore them if so.
      this.#needs = 'verify';
      if (this.#state === 'ready')
        this.run('verify after an unsolicited firmware report', () => Promise.resolve()).catch(
          () => undefined,
        );
    }
    const w = this.#waiter;
    if (!w) return;
    const r = w.match(m);
    if (r !== undefined) {
      clearTimeout(w.timer);
      this.#waiter = undefined;
      w.resolve(r);
    }
  }

  #failWaiter(err: HalError): void {
    const w = this.#waiter;
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiter = undefined;
    w.reject(err);
  }

  #exchange(): LinkExchange {
    const strings: string[] = [];
    this.#strings = strings;
    const firmware = this.#firmware;
    return {
      get firmware(): FirmwareInfo {
        if (!firmware) throw new Error('no firmware yet');
        return firmware;
      },
      strings,
      send: async (bytes) => {
        const s = this.#serial;
        if (!s) throw this.#downError();
        try {
          await s.write(bytes);
        } catch (err) {
          throw toLinkError(err, s.path);
        }
      },
      expect: <T>(what: string, match: (m: FirmataMessage) => T | undefined, ms: number) =>
        new Promise<T>((resolve, reject) => {
          if (!this.#serial) {
            reject(this.#downError());
            return;
          }
          const timer = setTimeout(() => {
            this.#waiter = undefined;
            reject(
              new HalError(
                'EDGEFLOW_HAL_FIRMATA_TIMEOUT',
                `${this.#device}: no ${what} from the co-processor within ${ms} ms`,
                { details: { device: this.#device } },
              ),
            );
          }, ms);
          this.#waiter = { match, resolve: resolve as (v: unknown) => void, reject, timer };
        }),
    };
  }

  /** While down, requests fail fast with LINK_DOWN; the last connect failure is the cause. */
  #downError(): HalError {
    const last = this.#error;
    if (last?.code === 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN') return last;
    const why = last ? ` (last attempt: ${last.code}: ${last.message})` : '';
    return new HalError(
      'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
      `${this.#device || 'co-processor'}: link is down${why}; reconnecting with backoff`,
      { cause: last, details: { device: this.#device } },
    );
  }

  #closedError(): HalError {
    return new HalError('EDGEFLOW_HAL_FIRMATA_LINK_DOWN', `${this.#device}: the link was closed`, {
      details: { device: this.#device },
    });
  }

  /** PIN_STATE_QUERY as a fence (pin-sync.ts). @internal */
  pinState(x: LinkExchange, pin: number): Promise<{ mode: number; state: number }> {
    return queryPin(x, pin, this.#o.requestTimeoutMs);
  }

  /** Learns the unheld pins of `port` before its first port write (pin-sync.ts). @internal */
  learnPort(x: LinkExchange, port: number): Promise<void> {
    return learnPort(x, this.pins, port, this.#o.requestTimeoutMs);
  }

  #restore(x: LinkExchange): Promise<void> {
    return restorePins(x, this.pins, this.#o.requestTimeoutMs, this.#device);
  }

  /** After an MCU reset may have happened: restores (and emits 'ready') if a pin differs. */
  async #verify(x: LinkExchange): Promise<void> {
    if (!(await firstMismatch(x, this.pins, this.#o.requestTimeoutMs))) return;
    await this.#restore(x);
    if (this.#firmware) this.emit('ready', this.#firmware);
  }

  /**
   * Runs `fn` alone on the link (FIFO). Waits for a connection in progress; fails fast with
   * FIRMATA_LINK_DOWN while the link is down. A timeout inside `fn` makes the next request
   * resynchronise first (late replies are drained), and a second one drops the link.
   * @internal used by the GPIO, I2C and analog parts of the backend; `what` names the request
   */
  run<T>(what: string, fn: (x: LinkExchange) => Promise<T>): Promise<T> {
    const next = this.#tail.then(async () => {
      if (this.#state === 'connecting') await this.connect();
      if (this.#state !== 'ready')
        throw this.#state === 'closed' ? this.#closedError() : this.#downError();
      if (this.#needs === 'resync') await this.#resync();
      if (this.#needs === 'verify') {
        this.#needs = 'none';
        await this.#verify(this.#exchange());
      }
      try {
        return await fn(this.#exchange());
      } catch (err) {
        if (!(err instanceof HalError && err.code === 'EDGEFLOW_HAL_FIRMATA_TIMEOUT')) throw err;
        this.#needs = 'resync';
        throw new HalError(err.code, `${what}: ${err.message}`, {
          cause: err,
          details: err.details,
        });
      }
    });
    this.#tail = next.catch(() => undefined);
    // `fn`'s own errors pass through as they are (the I2C transport's errno errors are mapped
    // by its bus queue); the link's own failures are HalErrors already.
    return next;
  }

  async #resync(): Promise<void> {
    const x = this.#exchange();
    this.#handshaking = true;
    try {
      await x.send(queryFirmware());
      await x.expect(
        'REPORT_FIRMWARE (resync)',
        (m) => (m.kind === 'firmware' ? m : undefined),
        this.#o.requestTimeoutMs * 2,
      );
      this.#needs = 'verify';
    } catch (err) {
      // The board does not answer at all: drop the link and let the reconnect loop handle it.
      throw await this.#drop(err);
    } finally {
      this.#handshaking = false;
    }
  }

  /** Closes the serial link for good (pins keep their last state on the board). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#failWaiter(this.#closedError());
    const connecting = this.#connecting;
    if (connecting) {
      // A connect in progress: its port goes first (its next send or wait fails at once), then
      // it is waited for, so that no port it opens late is left behind a closed link.
      await this.#detach();
      await connecting.catch(() => undefined);
    }
    await this.#tail;
    await this.#detach();
  }
}

function toLinkError(err: unknown, device: string): HalError {
  if (err instanceof HalError) return err;
  return new HalError(
    'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
    `${device}: ${(err as Error)?.message ?? String(err)}`,
    { cause: err, details: { device } },
  );
}
