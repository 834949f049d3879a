import type { Bias, EdgeSetting, LineValue } from './types.js';
import { errnoError } from './map-error.js';

/** Settings the model needs for a requested line (physical view). */
export interface SimLineSettings {
  readonly direction: 'input' | 'output';
  readonly bias: Bias;
  readonly activeLow: boolean;
  readonly edge: EdgeSetting;
  readonly debounceNs: bigint;
  /** Initial physical level of an output. */
  readonly initialLevel: LineValue;
}

/** Raw edge as the kernel reports it: logical direction, timestamp, sequence. */
export interface SimRawEdge {
  readonly rising: boolean;
  readonly timestampNs: bigint;
  readonly seqno: number;
}

interface LineState {
  consumer: string | undefined;
  settings: SimLineSettings | undefined;
  outputLevel: LineValue;
  /** External drive (like gpio-sim's `pull`); undefined = not driven. */
  driven: LineValue | undefined;
  lastLevel: LineValue;
  seqno: number;
  lastEdgeNs: bigint | undefined;
  listeners: Set<(e: SimRawEdge) => void>;
}

/** A handle on a requested simulated line (what a line-request fd is to the kernel). */
export interface SimLineHandle {
  readonly offset: number;
  level(): LineValue;
  setLevel(level: LineValue): void;
  reconfigure(settings: SimLineSettings): void;
  onEdge(listener: (e: SimRawEdge) => void): () => void;
  release(): void;
}

/**
 * In-memory model of one GPIO chip, behaving like the kernel + gpio-sim: lines
 * are requested exclusively (EBUSY), inputs follow an external drive or their
 * bias (floating reads 0, as gpio-sim's default pull-down), outputs drive the
 * pad, edges are detected on the logical level with per-line sequence numbers
 * and an optional debounce window. Every backend's tests drive it.
 */
export class SimGpioChipModel {
  readonly label: string;
  readonly lines: number;
  readonly #state: LineState[];
  readonly #now: () => bigint;

  constructor(label: string, lines: number, now: () => bigint = () => process.hrtime.bigint()) {
    this.label = label;
    this.lines = lines;
    this.#now = now;
    this.#state = Array.from({ length: lines }, () => ({
      consumer: undefined,
      settings: undefined,
      outputLevel: 0,
      driven: undefined,
      lastLevel: 0,
      seqno: 0,
      lastEdgeNs: undefined,
      listeners: new Set(),
    }));
  }

  #line(offset: number): LineState {
    const s = this.#state[offset];
    if (!s) throw errnoError('EINVAL', `${this.label}: no line ${offset}`);
    return s;
  }

  #physical(s: LineState): LineValue {
    if (s.settings?.direction === 'output') return s.outputLevel;
    if (s.driven !== undefined) return s.driven;
    return s.settings?.bias === 'pull-up' ? 1 : 0;
  }

  /** The electrical level of a pad, as a logic analyser would see it. */
  level(offset: number): LineValue {
    return this.#physical(this.#line(offset));
  }

  /** Who holds the line, if anyone. */
  consumer(offset: number): string | undefined {
    return this.#line(offset).consumer;
  }

  /** Drives a pad from outside (test hook); undefined stops driving it. */
  drive(offset: number, level: LineValue | undefined): void {
    const s = this.#line(offset);
    s.driven = level;
    this.#update(s);
  }

  #update(s: LineState): void {
    const level = this.#physical(s);
    if (level === s.lastLevel) return;
    s.lastLevel = level;
    const cfg = s.settings;
    if (!cfg || cfg.direction !== 'input' || cfg.edge === 'none') return;
    const logical = cfg.activeLow ? level ^ 1 : level;
    const rising = logical === 1;
    if (cfg.edge === 'rising' && !rising) return;
    if (cfg.edge === 'falling' && rising) return;
    const ts = this.#now();
    // Debounce: an edge within the window of the last delivered one is a bounce.
    if (cfg.debounceNs > 0n && s.lastEdgeNs !== undefined && ts - s.lastEdgeNs < cfg.debounceNs) {
      return;
    }
    s.lastEdgeNs = ts;
    s.seqno += 1;
    const ev: SimRawEdge = { rising, timestampNs: ts, seqno: s.seqno };
    for (const l of [...s.listeners]) l(ev);
  }

  /** Requests a line; throws an EBUSY error when it is already requested. */
  request(offset: number, settings: SimLineSettings, consumer: string): SimLineHandle {
    const s = this.#line(offset);
    if (s.consumer !== undefined) {
      throw errnoError('EBUSY', `${this.label}:${offset} is held by "${s.consumer}"`);
    }
    s.consumer = consumer;
    s.seqno = 0;
    s.lastEdgeNs = undefined;
    s.settings = settings;
    if (settings.direction === 'output') s.outputLevel = settings.initialLevel;
    s.lastLevel = this.#physical(s);
    let released = false;
    const check = (): void => {
      if (released) throw errnoError('EBADF', `${this.label}:${offset} was released`);
    };
    return {
      offset,
      level: () => {
        check();
        return this.#physical(s);
      },
      setLevel: (level) => {
        check();
        if (s.settings?.direction !== 'output') {
          throw errnoError('EPERM', `${this.label}:${offset} is an input`);
        }
        s.outputLevel = level;
        this.#update(s);
      },
      reconfigure: (next) => {
        check();
        s.settings = next;
        if (next.direction === 'output') s.outputLevel = next.initialLevel;
        this.#update(s);
      },
      onEdge: (listener) => {
        s.listeners.add(listener);
        return () => s.listeners.delete(listener);
      },
      release: () => {
        if (released) return;
        released = true;
        s.consumer = undefined;
        s.settings = undefined;
        s.listeners.clear();
        s.lastLevel = this.#physical(s);
      },
    };
  }
}

/** Converts a logical LineConfig into the model's physical settings. */
export function toSimSettings(cfg: {
  direction: 'input' | 'output';
  bias?: Bias;
  activeLow?: boolean;
  edge?: EdgeSetting;
  debounceMs?: number;
  initial?: LineValue;
}): SimLineSettings {
  const activeLow = cfg.activeLow ?? false;
  const initial = cfg.initial ?? 0;
  return {
    direction: cfg.direction,
    bias: cfg.bias ?? 'as-is',
    activeLow,
    edge: cfg.direction === 'input' ? (cfg.edge ?? 'none') : 'none',
    debounceNs: BigInt(Math.round((cfg.debounceMs ?? 0) * 1e6)),
    initialLevel: (activeLow ? initial ^ 1 : initial) as LineValue,
  };
}
