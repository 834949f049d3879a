import { VIOLATION_KINDS } from '../broker/security.js';
import { REJECT_REASONS } from '../ingest/decode.js';

/**
 * The counters an ingest worker thread increments, as cells of one SharedArrayBuffer: one row
 * per worker (a row has one writer, its worker), one column per labelled series. The main
 * thread sums the rows when /metrics is scraped: no message per scrape, no lock, and the
 * worker's hot path pays one `Atomics.add` on a cache line nobody else writes. 64-bit cells
 * (BigInt64Array): an `Atomics.add` on them is one atomic update, so a reader never sees half
 * of one (on ARM64 too).
 */

/** The columns: `<series>` or `<series>|<label value>`. Append only (rows are indexed by it). */
export const SHARED_SERIES: readonly string[] = [
  'ingest_messages|mqtt',
  'ingest_messages|hal',
  ...REJECT_REASONS.map((r) => `ingest_rejected|${r}`),
  'ingest_duplicates',
  'wal_errors',
  ...VIOLATION_KINDS.map((k) => `mqtt_violations|${k}`),
  'mqtt_sessions_expired',
  'cache_full',
  // Gauges (the worker sets them) and copies of the worker's cache-handle counters.
  'mqtt_clients',
  'cache_read_retries',
  'cache_locked_reads',
  'cache_lock_waits',
];

const COLUMN = new Map(SHARED_SERIES.map((s, i) => [s, i]));

function column(series: string, label?: string): number {
  const c = COLUMN.get(label === undefined ? series : `${series}|${label}`);
  if (c === undefined) throw new Error(`no shared metric cell ${series} ${label ?? ''}`);
  return c;
}

/** One row per worker; rows are padded to whole 64-byte lines so no two workers share one. */
export class SharedCounters {
  readonly buffer: SharedArrayBuffer;
  readonly rows: number;
  readonly #cells: BigInt64Array;
  readonly #stride: number;

  constructor(rowsOrBuffer: number | SharedArrayBuffer) {
    this.#stride = Math.ceil(SHARED_SERIES.length / 8) * 8;
    this.buffer =
      typeof rowsOrBuffer === 'number'
        ? new SharedArrayBuffer(rowsOrBuffer * this.#stride * 8)
        : rowsOrBuffer;
    this.rows = this.buffer.byteLength / (this.#stride * 8);
    this.#cells = new BigInt64Array(this.buffer);
  }

  /** The writer side of one row (a worker's). */
  row(r: number): CounterRow {
    if (!(r >= 0 && r < this.rows)) throw new RangeError(`no counter row ${r}`);
    return new CounterRow(this.#cells, r * this.#stride);
  }

  /** The sum of one cell over every row. */
  sum(series: string, label?: string): number {
    const c = column(series, label);
    let n = 0n;
    for (let r = 0; r < this.rows; r++) n += Atomics.load(this.#cells, r * this.#stride + c);
    return Number(n);
  }

  /** One cell of one row. */
  get(r: number, series: string, label?: string): number {
    return Number(Atomics.load(this.#cells, r * this.#stride + column(series, label)));
  }
}

/** A worker's row: counters it adds to, gauges it sets. */
export class CounterRow {
  readonly #cells: BigInt64Array;
  readonly #base: number;

  constructor(cells: BigInt64Array, base: number) {
    this.#cells = cells;
    this.#base = base;
  }

  add(series: string, label: string | undefined, n = 1): void {
    this.addAt(this.cell(series, label), n);
  }

  /** The index of a cell of this row (resolve once, then {@link addAt}). */
  cell(series: string, label?: string): number {
    return this.#base + column(series, label);
  }

  addAt(cell: number, n = 1): void {
    Atomics.add(this.#cells, cell, BigInt(n));
  }

  set(series: string, value: number): void {
    Atomics.store(this.#cells, this.#base + column(series), BigInt(Math.max(0, Math.trunc(value))));
  }

  /** A counter of this row with the subset of prom-client's Counter API the ingest code uses. */
  counter<L extends string = never>(series: string, labelName?: L): RowCounter<L> {
    return new RowCounter<L>(this, series, labelName);
  }
}

/** The part of a prom-client Counter that ingest code calls (so either can be passed). */
export interface MetricCounter<L extends string = never> {
  inc(labels: Partial<Record<L, string>>, value?: number): void;
  inc(value?: number): void;
  labels(...values: string[]): { inc(value?: number): void };
}

/**
 * The counters the ingest path increments, whichever thread it runs in: prom-client counters on
 * the main thread, {@link RowCounter}s in an ingest worker.
 */
export interface IngestCounters {
  ingestMessages: MetricCounter<'source'>;
  ingestRejected: MetricCounter<'reason'>;
  ingestDuplicates: MetricCounter;
  walErrors: MetricCounter;
  cacheFull: MetricCounter;
  mqttViolations: MetricCounter<'kind'>;
  mqttSessionsExpired: MetricCounter;
}

/** The {@link IngestCounters} of a worker's row. */
export function rowCounters(row: CounterRow): IngestCounters {
  return {
    ingestMessages: row.counter('ingest_messages', 'source'),
    ingestRejected: row.counter('ingest_rejected', 'reason'),
    ingestDuplicates: row.counter('ingest_duplicates'),
    walErrors: row.counter('wal_errors'),
    cacheFull: row.counter('cache_full'),
    mqttViolations: row.counter('mqtt_violations', 'kind'),
    mqttSessionsExpired: row.counter('mqtt_sessions_expired'),
  };
}

/** A {@link MetricCounter} that adds to a worker's row (cells resolved once per label). */
export class RowCounter<L extends string> implements MetricCounter<L> {
  readonly #row: CounterRow;
  readonly #series: string;
  readonly #label: L | undefined;

  constructor(row: CounterRow, series: string, label: L | undefined) {
    this.#row = row;
    this.#series = series;
    this.#label = label;
  }

  inc(labels?: Partial<Record<L, string>> | number, value?: number): void {
    if (typeof labels === 'object') {
      const v = this.#label === undefined ? undefined : labels[this.#label];
      this.#row.add(this.#series, v, value ?? 1);
    } else this.#row.add(this.#series, undefined, labels ?? 1);
  }

  labels(...values: string[]): { inc(value?: number): void } {
    const cell = this.#row.cell(this.#series, values[0]);
    return { inc: (n = 1) => this.#row.addAt(cell, n) };
  }
}
