import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// @types/node 24 no longer names the histogram type it returns.
type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;
import type { Logger } from 'pino';
import type { AgentMetrics } from './metrics.js';
import { HistoryRing, type SeriesDef } from './history.js';
import { histogramQuantile, sampleQuantile } from './quantile.js';

/** The health series the agent keeps for the last hour (console Overview), in ring order. */
export const HEALTH_SERIES: readonly SeriesDef[] = [
  { name: 'ingestRate', label: 'readings accepted', unit: '/s' },
  { name: 'rejectedRate', label: 'messages rejected', unit: '/s' },
  { name: 'delayP99Ms', label: 'p99 reading delay', unit: 'ms' },
  { name: 'walFsyncP99Ms', label: 'p99 WAL fsync', unit: 'ms' },
  { name: 'loopP99Ms', label: 'p99 event-loop delay', unit: 'ms' },
  { name: 'cpuPercent', label: 'CPU (share of one core)', unit: '%' },
  { name: 'rssMiB', label: 'RSS', unit: 'MiB' },
  { name: 'heapMiB', label: 'V8 heap used', unit: 'MiB' },
  { name: 'diskUsedPercent', label: 'data filesystem used', unit: '%' },
];

const MIB = 1024 * 1024;

export interface HistorySamplerDeps {
  readonly metrics: Pick<AgentMetrics, 'ingestMessages' | 'ingestRejected' | 'walFsyncSeconds'>;
  /** The data directory: its filesystem's use is the disk series. */
  readonly dataDir: string;
  /** Reading delays (receive time − measurement time, ms) seen since the last call. */
  readonly drainDelays: () => number[];
  readonly now: () => number;
  readonly log: Logger;
  /** Process figures (tests inject fixed ones). */
  readonly process?: {
    cpuUsage(prev?: NodeJS.CpuUsage): NodeJS.CpuUsage;
    memoryUsage(): { rss: number; heapUsed: number };
    hrtime: { bigint(): bigint };
  };
  readonly statfs?: (path: string) => Promise<{ blocks: number; bfree: number; bavail: number }>;
}

async function total(m: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await m.get()).values.reduce((a, v) => a + v.value, 0);
}

/**
 * Samples the agent's health into a {@link HistoryRing} once per call (the console calls it
 * every second): rates from counter differences, p99s from this interval's histogram buckets,
 * CPU from process time over wall time, RSS and heap, the data filesystem's use (every 5th
 * sample: statfs is a syscall the plot does not need each second).
 */
export class HistorySampler {
  readonly ring: HistoryRing;
  readonly #deps: HistorySamplerDeps;
  readonly #proc: NonNullable<HistorySamplerDeps['process']>;
  readonly #loop: IntervalHistogram;
  #prev:
    | { t: bigint; ingest: number; rejected: number; buckets: number[]; cpu: NodeJS.CpuUsage }
    | undefined;
  #disk: number | null = null;
  #n = 0;
  #failed = false;

  constructor(deps: HistorySamplerDeps, opts: { capacity: number; intervalMs: number }) {
    this.#deps = deps;
    this.#proc = deps.process ?? process;
    this.ring = new HistoryRing(HEALTH_SERIES, opts);
    this.#loop = monitorEventLoopDelay({ resolution: 10 });
    this.#loop.enable();
  }

  /** Takes one sample; returns it (slot time, series name → value); undefined for the first call. */
  async sample(): Promise<{ t: number; values: Record<string, number | null> } | undefined> {
    try {
      return await this.#sample();
    } catch (err) {
      if (!this.#failed)
        this.#deps.log.warn({ event: 'console.sample_failed', err }, 'health sample failed');
      this.#failed = true;
      return undefined;
    }
  }

  async #sample(): Promise<{ t: number; values: Record<string, number | null> } | undefined> {
    const { metrics } = this.#deps;
    const t = this.#proc.hrtime.bigint();
    const ingest = await total(metrics.ingestMessages);
    const rejected = await total(metrics.ingestRejected);
    const h = await metrics.walFsyncSeconds.get();
    const bucketValues = h.values.filter((v) => v.metricName?.endsWith('_bucket'));
    const bounds = bucketValues.map((v) =>
      v.labels.le === '+Inf' ? Infinity : Number(v.labels.le),
    );
    const buckets = bucketValues.map((v) => v.value);
    const cpu = this.#proc.cpuUsage();
    if (this.#n++ % 5 === 0) this.#disk = await this.#diskUsed();
    const prev = this.#prev;
    this.#prev = { t, ingest, rejected, buckets, cpu };
    const delays = this.#deps.drainDelays();
    if (prev === undefined) return undefined;
    const sec = Number(t - prev.t) / 1e9;
    if (!(sec > 0)) return undefined;
    const fsync = histogramQuantile(
      0.99,
      bounds,
      buckets.map((b, i) => b - (prev.buckets[i] ?? 0)),
    );
    const cpuUs = cpu.user - prev.cpu.user + (cpu.system - prev.cpu.system);
    const mem = this.#proc.memoryUsage();
    // The histogram holds whole timer periods: the delay is what exceeds the 10 ms resolution.
    const loop = this.#loop.count > 0 ? Math.max(0, this.#loop.percentile(99) / 1e6 - 10) : null;
    this.#loop.reset();
    const delay = sampleQuantile(0.99, delays);
    const values: Record<string, number | null> = {
      ingestRate: (ingest - prev.ingest) / sec,
      rejectedRate: (rejected - prev.rejected) / sec,
      delayP99Ms: delay,
      walFsyncP99Ms: fsync === null ? null : fsync * 1000,
      loopP99Ms: loop,
      cpuPercent: (cpuUs / 1e6 / sec) * 100,
      rssMiB: mem.rss / MIB,
      heapMiB: mem.heapUsed / MIB,
      diskUsedPercent: this.#disk,
    };
    const now = this.#deps.now();
    this.ring.push(
      now,
      HEALTH_SERIES.map((s) => values[s.name] ?? null),
    );
    return this.ring.latest();
  }

  async #diskUsed(): Promise<number | null> {
    try {
      const s = await (this.#deps.statfs ?? statfs)(this.#deps.dataDir);
      const used = s.blocks - s.bfree;
      // as df computes Use%: used / (used + available to unprivileged users)
      return used + s.bavail > 0 ? (used / (used + s.bavail)) * 100 : null;
    } catch {
      return null;
    }
  }

  stop(): void {
    this.#loop.disable();
  }
}
