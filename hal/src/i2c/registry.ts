import type { I2cOpener } from './i2c-bus-transport.js';
import { i2cBusTransport, loadI2cBusOpener } from './i2c-bus-transport.js';
import { QueuedI2cBus, mapI2cError } from './queued-bus.js';
import type { I2cBus, I2cTransport } from './types.js';

/** Creates the raw transport of a bus number. */
export type TransportFactory = (bus: number) => Promise<I2cTransport>;

/** Production transport: /dev/i2c-N through i2c-bus. */
export function i2cBusTransportFactory(open?: I2cOpener): TransportFactory {
  return async (bus) => {
    const opener = open ?? (await loadI2cBusOpener());
    try {
      return i2cBusTransport(await opener(bus));
    } catch (err) {
      throw mapI2cError(err, bus, 0, 'open');
    }
  };
}

/**
 * One QueuedI2cBus per bus number for the whole agent, so that every driver,
 * the CLI and the poller share a single transaction queue per physical bus.
 */
export class I2cBusRegistry {
  readonly #factory: TransportFactory;
  readonly #buses = new Map<number, Promise<QueuedI2cBus>>();

  constructor(factory: TransportFactory) {
    this.#factory = factory;
  }

  /** The shared bus object (opened on first use). */
  open(bus: number): Promise<I2cBus> {
    let p = this.#buses.get(bus);
    if (!p) {
      p = this.#factory(bus).then((t) => new QueuedI2cBus(bus, t));
      // A failed open is not cached: the next poll retries it.
      p.catch(() => this.#buses.delete(bus));
      this.#buses.set(bus, p);
    }
    return p;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#buses.values()];
    this.#buses.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          await (await p).close();
        } catch {
          // a bus that failed to open has nothing to close
        }
      }),
    );
  }
}
