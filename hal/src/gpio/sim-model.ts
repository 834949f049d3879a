import type { Bias, EdgeSetting, LineValue } from './types.js';
import { errnoError } from './map-error.js';
import type { NetPart, SimWire } from './sim-wires.js';
import { buildNets, resolveNet } from './sim-wires.js';

export type { SimWire } from './sim-wires.js';

/** Options of a simulated chip. */
export interface SimChipOptions {
  /** Lines joined by jumper wires (see `SimGpioChipModel.wire`). */
  readonly wires?: readonly SimWire[];
}

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
 * and an optional debounce window. Lines can be wired together like a jumper on a
 * header: an output then drives every line of its net, which sees the level and
 * raises its own edges (rule in `resolveNet`). Every backend's tests drive it.
 */
export class SimGpioChipModel {
  readonly label: string;
  readonly lines: number;
  readonly #state: LineState[];
  readonly #now: () => bigint;
  readonly #wires: SimWire[] = [];
  #nets: number[][];

  constructor(
    label: string,
    lines: number,
    now: () => bigint = () => process.hrtime.bigint(),
    options: SimChipOptions = {},
  ) {
    this.label = label;
    this.lines = lines;
    this.#now = now;
    this.#nets = buildNets(lines, []);
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
    for (const [a, b] of options.wires ?? []) this.wire(a, b);
  }

  #line(offset: number): LineState {
    const s = this.#state[offset];
    if (!s) throw errnoError('EINVAL', `${this.label}: no line ${offset}`);
    return s;
  }

  #part(offset: number): NetPart {
    const s = this.#line(offset);
    return {
      offset,
      output: s.settings?.direction === 'output' ? s.outputLevel : undefined,
      drive: s.driven,
      bias: s.settings?.bias,
    };
  }

  /** Level of the net `offset` belongs to; the model never holds a contended net. */
  #level(offset: number): LineValue {
    const r = resolveNet((this.#nets[offset] ?? [offset]).map((o) => this.#part(o)));
    return r.ok ? r.level : 0;
  }

  /**
   * Applies a change of the net around `offset`; when it would make drivers
   * disagree it is undone and EIO thrown, so the model never holds a short.
   */
  #apply(offset: number, mutate: () => () => void): void {
    const undo = mutate();
    const r = resolveNet((this.#nets[offset] ?? [offset]).map((o) => this.#part(o)));
    if (!r.ok) {
      undo();
      throw errnoError('EIO', `${this.label}:${offset}: wire contention: ${r.conflict}`);
    }
  }

  /** Raises the edges the last change caused on every line of the net. */
  #updateNet(offset: number): void {
    for (const o of this.#nets[offset] ?? [offset]) this.#update(this.#line(o), o);
  }

  /** The electrical level of a pad, as a logic analyser would see it. */
  level(offset: number): LineValue {
    this.#line(offset);
    return this.#level(offset);
  }

  /**
   * Wires two lines together like a jumper (test hook and `SimChipOptions.wires`);
   * throws EIO, leaving them apart, when their drivers disagree.
   */
  wire(a: number, b: number): void {
    this.#line(a);
    this.#line(b);
    if (a === b) throw errnoError('EINVAL', `${this.label}: cannot wire line ${a} to itself`);
    this.#apply(a, () => {
      this.#wires.push([a, b]);
      this.#nets = buildNets(this.lines, this.#wires);
      return () => {
        this.#wires.pop();
        this.#nets = buildNets(this.lines, this.#wires);
      };
    });
    this.#updateNet(a);
  }

  /** Removes the wire between two lines, if any (pulling the jumper off). */
  unwire(a: number, b: number): void {
    const i = this.#wires.findIndex(([x, y]) => (x === a && y === b) || (x === b && y === a));
    if (i < 0) return;
    const before = this.#nets[a] ?? [a];
    this.#wires.splice(i, 1);
    this.#nets = buildNets(this.lines, this.#wires);
    for (const o of before) this.#update(this.#line(o), o);
  }

  /** Lines wired to `offset` (its net without itself). */
  wiredTo(offset: number): number[] {
    this.#line(offset);
    return (this.#nets[offset] ?? []).filter((o) => o !== offset);
  }

  /** Who holds the line, if anyone. */
  consumer(offset: number): string | undefined {
    return this.#line(offset).consumer;
  }

  /** Drives a pad from outside (test hook); undefined stops driving it. */
  drive(offset: number, level: LineValue | undefined): void {
    const s = this.#line(offset);
    const prev = s.driven;
    this.#apply(offset, () => {
      s.driven = level;
      return () => (s.driven = prev);
    });
    this.#updateNet(offset);
  }

  #update(s: LineState, offset: number): void {
    const level = this.#level(offset);
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
    this.#apply(offset, () => {
      const prev = { settings: s.settings, outputLevel: s.outputLevel };
      s.settings = settings;
      if (settings.direction === 'output') s.outputLevel = settings.initialLevel;
      return () => Object.assign(s, prev);
    });
    s.consumer = consumer;
    s.seqno = 0;
    s.lastEdgeNs = undefined;
    // No edge for the line's own request; wired neighbours see the change.
    s.lastLevel = this.#level(offset);
    this.#updateNet(offset);
    let released = false;
    const check = (): void => {
      if (released) throw errnoError('EBADF', `${this.label}:${offset} was released`);
    };
    return {
      offset,
      level: () => {
        check();
        return this.#level(offset);
      },
      setLevel: (level) => {
        check();
        if (s.settings?.direction !== 'output') {
          throw errnoError('EPERM', `${this.label}:${offset} is an input`);
        }
        const prev = s.outputLevel;
        this.#apply(offset, () => {
          s.outputLevel = level;
          return () => (s.outputLevel = prev);
        });
        this.#updateNet(offset);
      },
      reconfigure: (next) => {
        check();
        this.#apply(offset, () => {
          const prev = { settings: s.settings, outputLevel: s.outputLevel };
          s.settings = next;
          if (next.direction === 'output') s.outputLevel = next.initialLevel;
          return () => Object.assign(s, prev);
        });
        this.#updateNet(offset);
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
        s.lastLevel = this.#level(offset);
        // A released output stops driving: wired inputs fall back to their bias.
        this.#updateNet(offset);
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
