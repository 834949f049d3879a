import type { CdevBinding, CdevRawEvent } from '../gpio/cdev-binding.js';
import { GPIO_V2_LINE_FLAG as F } from '../gpio/cdev-binding.js';
import { errnoError } from '../gpio/map-error.js';
import type { SimGpioChipModel, SimLineHandle, SimLineSettings } from '../gpio/sim-model.js';
import type { OnoffGpio, OnoffGpioCtor } from '../gpio/sysfs-chip.js';
import type { Bias, EdgeSetting, LineValue } from '../gpio/types.js';

function settingsFromFlags(flags: number, debounceUs: number, output: number): SimLineSettings {
  const bias: Bias =
    flags & F.BIAS_PULL_UP
      ? 'pull-up'
      : flags & F.BIAS_PULL_DOWN
        ? 'pull-down'
        : flags & F.BIAS_DISABLED
          ? 'disabled'
          : 'as-is';
  const rising = (flags & F.EDGE_RISING) !== 0;
  const falling = (flags & F.EDGE_FALLING) !== 0;
  const edge: EdgeSetting =
    rising && falling ? 'both' : rising ? 'rising' : falling ? 'falling' : 'none';
  const activeLow = (flags & F.ACTIVE_LOW) !== 0;
  const logical = output > 0 ? 1 : 0;
  return {
    direction: flags & F.OUTPUT ? 'output' : 'input',
    bias,
    activeLow,
    edge,
    debounceNs: BigInt(debounceUs) * 1000n,
    initialLevel: (activeLow ? logical ^ 1 : logical) as LineValue,
  };
}

/**
 * A stand-in for the native cdev addon, backed by chip models keyed by device
 * path. It behaves like the kernel uAPI (EBUSY, logical values, per-line seqno,
 * events delivered later as from a readable fd), so the cdev backend runs the
 * same contract suite in the unit tier that the real addon runs in the QEMU guest.
 */
export function createSimCdevBinding(chips: ReadonlyMap<string, SimGpioChipModel>): CdevBinding {
  let nextFd = 100;
  const open = new Map<number, { handle: SimLineHandle; activeLow: boolean }>();
  const chip = (path: string): SimGpioChipModel => {
    const c = chips.get(path);
    if (!c) throw errnoError('ENOENT', `${path}: no such device`);
    return c;
  };
  const line = (fd: number): { handle: SimLineHandle; activeLow: boolean } => {
    const l = open.get(fd);
    if (!l) throw errnoError('EBADF', `fd ${fd}`);
    return l;
  };
  return {
    chipInfo(path) {
      const c = chip(path);
      return { name: path.split('/').pop() ?? path, label: c.label, lines: c.lines };
    },
    requestLine(path, offset, flags, consumer, debounceUs, outputValue) {
      const settings = settingsFromFlags(flags, debounceUs, outputValue);
      const handle = chip(path).request(offset, settings, consumer);
      const fd = nextFd++;
      open.set(fd, { handle, activeLow: settings.activeLow });
      return fd;
    },
    reconfigure(fd, flags, debounceUs, outputValue) {
      const l = line(fd);
      const s = settingsFromFlags(flags, debounceUs, outputValue);
      l.activeLow = s.activeLow;
      l.handle.reconfigure(s);
    },
    getValue(fd) {
      const l = line(fd);
      return l.handle.level() ^ (l.activeLow ? 1 : 0);
    },
    setValue(fd, value) {
      const l = line(fd);
      l.handle.setLevel(((value ? 1 : 0) ^ (l.activeLow ? 1 : 0)) as LineValue);
    },
    watch(fd, callback) {
      const l = line(fd);
      let active = true;
      const off = l.handle.onEdge((e) => {
        const ev: CdevRawEvent = {
          timestampNs: e.timestampNs,
          id: e.rising ? 1 : 2,
          offset: l.handle.offset,
          seqno: e.seqno,
          lineSeqno: e.seqno,
        };
        setImmediate(() => {
          if (active) callback(undefined, [ev]);
        });
      });
      return () => {
        active = false;
        off();
      };
    },
    unwatch(handle) {
      (handle as () => void)();
    },
    close(fd) {
      line(fd).handle.release();
      open.delete(fd);
    },
  };
}

/**
 * A stand-in for onoff's Gpio over chip models, mapping sysfs numbers to
 * (chip, offset) through each chip's base exactly as the kernel does.
 */
export function createSimOnoff(
  chips: ReadonlyArray<{ base: number; model: SimGpioChipModel }>,
): OnoffGpioCtor {
  const locate = (n: number): { model: SimGpioChipModel; offset: number } => {
    for (const c of chips) {
      if (n >= c.base && n < c.base + c.model.lines) return { model: c.model, offset: n - c.base };
    }
    throw errnoError('EINVAL', `/sys/class/gpio/export: no GPIO ${n}`);
  };
  return class SimOnoffGpio implements OnoffGpio {
    readonly #handle: SimLineHandle;
    readonly #activeLow: boolean;
    readonly #offs: Array<() => void> = [];
    constructor(
      gpio: number,
      direction: 'in' | 'out' | 'high' | 'low',
      edge: 'none' | 'rising' | 'falling' | 'both' = 'none',
      options: { debounceTimeout?: number; activeLow?: boolean } = {},
    ) {
      const { model, offset } = locate(gpio);
      this.#activeLow = options.activeLow ?? false;
      // Like sysfs: 'high'/'low' are electrical levels, independent of active-low.
      const electrical = direction === 'high' ? 1 : 0;
      this.#handle = model.request(
        offset,
        {
          direction: direction === 'in' ? 'input' : 'output',
          bias: 'as-is',
          activeLow: this.#activeLow,
          edge: direction === 'in' ? edge : 'none',
          debounceNs: BigInt(options.debounceTimeout ?? 0) * 1_000_000n,
          initialLevel: electrical,
        },
        'sysfs',
      );
    }
    read(): Promise<number> {
      return Promise.resolve(this.#handle.level() ^ (this.#activeLow ? 1 : 0));
    }
    write(value: number): Promise<void> {
      this.#handle.setLevel(((value ? 1 : 0) ^ (this.#activeLow ? 1 : 0)) as LineValue);
      return Promise.resolve();
    }
    watch(callback: (err: Error | null | undefined, value: number) => void): void {
      this.#offs.push(
        this.#handle.onEdge((e) => setImmediate(() => callback(null, e.rising ? 1 : 0))),
      );
    }
    unwatchAll(): void {
      for (const off of this.#offs.splice(0)) off();
    }
    unexport(): void {
      this.#handle.release();
    }
  };
}
