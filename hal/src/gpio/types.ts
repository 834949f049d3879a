import type { GpioBackendName } from '../board/types.js';

/** Line bias. 'as-is' leaves whatever the firmware configured. */
export type Bias = 'as-is' | 'disabled' | 'pull-up' | 'pull-down';

/** Which edges raise events on an input line. */
export type EdgeSetting = 'none' | 'rising' | 'falling' | 'both';

/** Logical line value (after active-low inversion). */
export type LineValue = 0 | 1;

/** How to request a line. */
export interface LineConfig {
  readonly direction: 'input' | 'output';
  readonly bias?: Bias;
  /** Logical 1 = electrical low. Edges and values are reported in logical terms. */
  readonly activeLow?: boolean;
  readonly edge?: EdgeSetting;
  /** Debounce period for input edges, in milliseconds (0 = off). */
  readonly debounceMs?: number;
  /** Initial logical value of an output. */
  readonly initial?: LineValue;
  /** Consumer name shown by gpioinfo (default "edgeflow"). */
  readonly consumer?: string;
}

/** One edge on an input line. */
export interface EdgeEvent {
  readonly offset: number;
  readonly edge: 'rising' | 'falling';
  /** Logical value after the edge. */
  readonly value: LineValue;
  /** Kernel timestamp (CLOCK_MONOTONIC, ns) on cdev; host monotonic clock elsewhere. */
  readonly timestampNs: bigint;
  /** Per-line sequence number, starting at 1. */
  readonly seqno: number;
}

/** A requested line. Release it with close(); the chip also releases its lines on close. */
export interface GpioLine {
  readonly chip: string;
  readonly offset: number;
  readonly config: Readonly<LineConfig>;
  get(): Promise<LineValue>;
  /** Sets an output; rejects with EDGEFLOW_HAL_LINE_DIRECTION on an input. */
  set(value: LineValue): Promise<void>;
  /** Subscribes to edges (needs `edge` in the config); returns the unsubscribe function. */
  onEdge(listener: (event: EdgeEvent) => void): () => void;
  close(): Promise<void>;
}

/** What a backend can do, so callers (and the contract suite) know what to expect. */
export interface GpioCapabilities {
  readonly bias: boolean;
  readonly debounce: boolean;
  readonly kernelTimestamps: boolean;
}

/** A GPIO chip found by label. */
export interface GpioChip {
  readonly label: string;
  readonly lines: number;
  readonly backend: GpioBackendName;
  readonly capabilities: GpioCapabilities;
  /** Requests one line; rejects with EDGEFLOW_HAL_LINE_BUSY when it is taken. */
  requestLine(offset: number, config: LineConfig): Promise<GpioLine>;
  /** Releases every line requested through this chip. */
  close(): Promise<void>;
}
