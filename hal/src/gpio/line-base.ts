import { HalError } from '../errors.js';
import type { EdgeEvent, GpioLine, LineConfig, LineValue } from './types.js';

/**
 * Shared bookkeeping of a requested line (listeners, closed state, direction
 * checks); each backend supplies the four primitives.
 */
export abstract class LineBase implements GpioLine {
  readonly chip: string;
  readonly offset: number;
  readonly config: Readonly<LineConfig>;
  #closed = false;
  readonly #listeners = new Set<(e: EdgeEvent) => void>();
  readonly #onClose: () => void;

  constructor(chip: string, offset: number, config: LineConfig, onClose: () => void) {
    this.chip = chip;
    this.offset = offset;
    this.config = Object.freeze({ ...config });
    this.#onClose = onClose;
  }

  protected abstract readValue(): Promise<LineValue>;
  protected abstract writeValue(value: LineValue): Promise<void>;
  protected abstract release(): Promise<void>;

  protected get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new HalError(
        'EDGEFLOW_HAL_LINE_CLOSED',
        `${this.chip}:${this.offset} was released; request it again`,
        { details: { chip: this.chip, pin: `${this.chip}:${this.offset}` } },
      );
    }
  }

  async get(): Promise<LineValue> {
    this.#assertOpen();
    return this.readValue();
  }

  async set(value: LineValue): Promise<void> {
    this.#assertOpen();
    if (this.config.direction !== 'output') {
      throw new HalError(
        'EDGEFLOW_HAL_LINE_DIRECTION',
        `cannot set ${this.chip}:${this.offset}: it is requested as an input`,
        { details: { chip: this.chip, pin: `${this.chip}:${this.offset}` } },
      );
    }
    if (value !== 0 && value !== 1)
      throw new RangeError(`line value must be 0 or 1, got ${String(value)}`);
    return this.writeValue(value);
  }

  onEdge(listener: (event: EdgeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivers an edge to every listener. */
  protected emitEdge(event: EdgeEvent): void {
    if (this.#closed) return;
    for (const l of [...this.#listeners]) l(event);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#onClose();
    await this.release();
  }
}

/** Tracks the lines of one chip so close() releases them all. */
export class LineRegistry {
  readonly #lines = new Set<GpioLine>();
  add(line: GpioLine): void {
    this.#lines.add(line);
  }
  remove(line: GpioLine): void {
    this.#lines.delete(line);
  }
  async closeAll(): Promise<void> {
    await Promise.all([...this.#lines].map((l) => l.close()));
    this.#lines.clear();
  }
}
