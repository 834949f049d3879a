import { LineBase, LineRegistry } from './line-base.js';
import { mapGpioError } from './map-error.js';
import type { SimGpioChipModel, SimLineHandle } from './sim-model.js';
import { toSimSettings } from './sim-model.js';
import type { GpioCapabilities, GpioChip, GpioLine, LineConfig, LineValue } from './types.js';

class SimLine extends LineBase {
  readonly #handle: SimLineHandle;
  readonly #activeLow: boolean;

  constructor(chip: string, handle: SimLineHandle, config: LineConfig, onClose: () => void) {
    super(chip, handle.offset, config, onClose);
    this.#handle = handle;
    this.#activeLow = config.activeLow ?? false;
    handle.onEdge((e) => {
      // Delivered asynchronously, like an fd becoming readable.
      queueMicrotask(() =>
        this.emitEdge({
          offset: handle.offset,
          edge: e.rising ? 'rising' : 'falling',
          value: e.rising ? 1 : 0,
          timestampNs: e.timestampNs,
          seqno: e.seqno,
        }),
      );
    });
  }

  protected readValue(): Promise<LineValue> {
    const level = this.#handle.level();
    return Promise.resolve((this.#activeLow ? level ^ 1 : level) as LineValue);
  }

  protected writeValue(value: LineValue): Promise<void> {
    try {
      this.#handle.setLevel((this.#activeLow ? value ^ 1 : value) as LineValue);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(mapGpioError(err, 'set', this.chip, this.offset));
    }
  }

  protected release(): Promise<void> {
    this.#handle.release();
    return Promise.resolve();
  }
}

/** The `sim` backend: a GpioChip over an in-memory chip model. */
export class SimGpioChip implements GpioChip {
  readonly backend = 'sim' as const;
  readonly capabilities: GpioCapabilities = { bias: true, debounce: true, kernelTimestamps: false };
  readonly model: SimGpioChipModel;
  readonly #lines = new LineRegistry();

  constructor(model: SimGpioChipModel) {
    this.model = model;
  }

  get label(): string {
    return this.model.label;
  }
  get lines(): number {
    return this.model.lines;
  }

  requestLine(offset: number, config: LineConfig): Promise<GpioLine> {
    try {
      const handle = this.model.request(
        offset,
        toSimSettings(config),
        config.consumer ?? 'edgeflow',
      );
      const line: GpioLine = new SimLine(this.label, handle, config, () =>
        this.#lines.remove(line),
      );
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
