import type { FirmataLink } from './link.js';

/**
 * One FirmataLink per co-processor for the whole process: the GPIO lines, the I2C bus and the
 * analog inputs of a board share its link and its single request queue (a serial device can
 * be held by one process only, and interleaved requests would mix up replies).
 */
export class FirmataLinkRegistry {
  readonly #links = new Map<string, FirmataLink>();

  /** The link known as `key` (the co-processor's identity), created on first use. */
  get(key: string, create: () => FirmataLink): FirmataLink {
    let link = this.#links.get(key);
    if (!link) {
      link = create();
      this.#links.set(key, link);
    }
    return link;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(all.map((l) => l.close()));
  }
}
