import { LineBase, LineRegistry } from './line-base.js';
import { mapGpioError } from './map-error.js';
import type { CdevBinding } from './cdev-binding.js';
import { GPIO_V2_LINE_FLAG as F } from './cdev-binding.js';
import type { GpioCapabilities, GpioChip, GpioLine, LineConfig, LineValue } from './types.js';

/** Translates a LineConfig into GPIO_V2_LINE_FLAG bits. */
export function cdevFlags(config: LineConfig): number {
  let flags = config.direction === 'output' ? F.OUTPUT : F.INPUT;
  if (config.activeLow) flags |= F.ACTIVE_LOW;
  if (config.bias === 'pull-up') flags |= F.BIAS_PULL_UP;
  else if (config.bias === 'pull-down') flags |= F.BIAS_PULL_DOWN;
  else if (config.bias === 'disabled') flags |= F.BIAS_DISABLED;
  if (config.direction === 'input') {
    const edge = config.edge ?? 'none';
    if (edge === 'rising' || edge === 'both') flags |= F.EDGE_RISING;
    if (edge === 'falling' || edge === 'both') flags |= F.EDGE_FALLING;
  }
  return flags;
}

class CdevLine extends LineBase {
  readonly #binding: CdevBinding;
  readonly #fd: number;
  #watch: unknown;

  constructor(
    chip: string,
    offset: number,
    config: LineConfig,
    binding: CdevBinding,
    fd: number,
    onClose: () => void,
  ) {
    super(chip, offset, config, onClose);
    this.#binding = binding;
    this.#fd = fd;
    if (config.direction === 'input' && (config.edge ?? 'none') !== 'none') {
      this.#watch = binding.watch(fd, (err, events) => {
        if (err) return; // the fd is gone (line released): nothing left to report
        for (const e of events) {
          this.emitEdge({
            offset: e.offset,
            edge: e.id === 1 ? 'rising' : 'falling',
            value: e.id === 1 ? 1 : 0,
            timestampNs: e.timestampNs,
            seqno: e.lineSeqno,
          });
        }
      });
    }
  }

  protected readValue(): Promise<LineValue> {
    try {
      return Promise.resolve(this.#binding.getValue(this.#fd) ? 1 : 0);
    } catch (err) {
      return Promise.reject(mapGpioError(err, 'get', this.chip, this.offset));
    }
  }

  protected writeValue(value: LineValue): Promise<void> {
    try {
      this.#binding.setValue(this.#fd, value);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(mapGpioError(err, 'set', this.chip, this.offset));
    }
  }

  protected release(): Promise<void> {
    if (this.#watch !== undefined) this.#binding.unwatch(this.#watch);
    this.#watch = undefined;
    try {
      this.#binding.close(this.#fd);
    } catch {
      // already closed: releasing twice is harmless
    }
    return Promise.resolve();
  }
}

/**
 * The `cdev` backend: GPIO uAPI v2 through the native addon. Values and edges
 * are logical (the kernel applies active-low); edge timestamps come from the
 * kernel (CLOCK_MONOTONIC) and events are read on the event loop via uv_poll.
 */
export class CdevGpioChip implements GpioChip {
  readonly backend = 'cdev' as const;
  readonly capabilities: GpioCapabilities = { bias: true, debounce: true, kernelTimestamps: true };
  readonly label: string;
  readonly lines: number;
  readonly devPath: string;
  readonly #binding: CdevBinding;
  readonly #lines = new LineRegistry();

  constructor(binding: CdevBinding, devPath: string) {
    this.#binding = binding;
    this.devPath = devPath;
    const info = binding.chipInfo(devPath);
    this.label = info.label;
    this.lines = info.lines;
  }

  requestLine(offset: number, config: LineConfig): Promise<GpioLine> {
    try {
      const out = config.direction === 'output' ? (config.initial ?? 0) : -1;
      const fd = this.#binding.requestLine(
        this.devPath,
        offset,
        cdevFlags(config),
        (config.consumer ?? 'edgeflow').slice(0, 31),
        Math.round((config.debounceMs ?? 0) * 1000),
        out,
      );
      const line: GpioLine = new CdevLine(this.label, offset, config, this.#binding, fd, () =>
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
