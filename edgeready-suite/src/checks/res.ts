import { readCpufreq, readThermal, readThrottle, type ThermalZone } from '../sample/sysfs.js';
import { linearTrend, summarize, type Sample, type SampleField } from '../sample/series.js';
import {
  check,
  fail,
  pass,
  passUnless,
  skip,
  type CheckImpl,
  type JudgeInput,
  type Outcome,
} from './types.js';

const MiB = 1024 * 1024;
/** ER-RES-MEMORY leaves out at least the first 5 min of each segment (the agent warming up). */
export const MEMORY_WARMUP_MS = 5 * 60_000;
/** Default minimum post-warm-up observation before a trend may pass (--trend-min). */
export const DEFAULT_TREND_MIN_MS = 30 * 60_000;

/** Points of one segment after its own warm-up (its first 10%, at least `warmupMs`). */
function segmentPoints(
  series: readonly Sample[],
  seg: number,
  field: SampleField,
  warmupMs: number,
): { x: number; y: number }[] {
  const own = series.filter((s) => s.seg === seg);
  const a0 = own[0]?.a ?? 0;
  const a1 = own.at(-1)?.a ?? 0;
  const from = a0 + Math.max((a1 - a0) * 0.1, warmupMs);
  return own
    .filter((s) => s.a >= from && typeof s[field] === 'number')
    .map((s) => ({ x: s.a / 3_600_000, y: s[field] as number }));
}

/** How a field is trended. */
interface TrendSpec {
  readonly field: SampleField;
  readonly perHour: number;
  /** Tolerance of a window: start-up allocation dominates short windows. */
  readonly floor: (first: number) => number;
  readonly unit: (v: number) => string;
  /** Also fail a short window whose whole-segment growth (warm-up included) exceeds the floor. */
  readonly wholeGrowth?: boolean;
  /**
   * Least warm-up of a segment (a segment may start with a new agent process), beyond its first
   * 10%: time the agent needs to reach its working size, never judged as a trend.
   */
  readonly warmupMs?: number;
}

function fitSegment(samples: readonly Sample[], seg: number, t: TrendSpec) {
  const pts = segmentPoints(samples, seg, t.field, t.warmupMs ?? 0);
  const fit = linearTrend(pts);
  if (!fit || pts.length < 5) return undefined;
  const hours = (pts.at(-1)?.x ?? 0) - (pts[0]?.x ?? 0);
  const growth = fit.slope * hours;
  const allowed = Math.max(t.perHour * hours, t.floor(pts[0]?.y ?? 0));
  const own = samples.filter((s) => s.seg === seg).map((s) => s[t.field]);
  const ys = own.filter((v): v is number => typeof v === 'number');
  return {
    seg,
    samples: pts.length,
    windowHours: hours,
    slopePerHour: fit.slope,
    slopeStdErr: fit.se,
    fittedGrowth: growth,
    allowedGrowth: allowed,
    wholeGrowth: ys.length ? Math.max(...ys) - (ys[0] ?? 0) : 0,
    ok: growth <= allowed,
  };
}

/**
 * Growth over each segment's post-warm-up window must stay under max(perHour × hours,
 * floor(first value)). A pass needs at least `trendMinMs` of window in some segment: on
 * seconds of data the floor, not the trend, decides, so a short run can only fail (growth
 * beyond the floor) or skip. Segments are fitted on their own: after a resume the agent may be
 * a new process whose fresh RSS would bend one line across both.
 */
export function judgeTrend(input: JudgeInput, t: TrendSpec): Outcome {
  const { samples, options } = input;
  const minMs = options.trendMinMs ?? DEFAULT_TREND_MIN_MS;
  const sum = summarize(samples, t.field);
  const segs = [...new Set(samples.map((s) => s.seg))];
  const fits = segs.map((seg) => fitSegment(samples, seg, t)).filter((f) => f !== undefined);
  if (!sum || fits.length === 0)
    return skip(
      `too few ${t.field} samples to fit a trend in any segment${warmupNote(samples, t)}`,
      { samples: sum?.n ?? 0, warmupMs: t.warmupMs ?? 0 },
    );
  const longest = Math.max(...fits.map((f) => f.windowHours * 3_600_000));
  const ev = {
    segments: fits,
    first: sum.first,
    last: sum.last,
    min: sum.min,
    max: sum.max,
    observedMs: longest,
    minObservationMs: minMs,
  };
  const bad = fits.find((f) => !f.ok);
  const grown = t.wholeGrowth ? fits.find((f) => f.wholeGrowth > t.floor(sum.first)) : undefined;
  const worst =
    bad ??
    fits.reduce((a, b) =>
      b.fittedGrowth / b.allowedGrowth > a.fittedGrowth / a.allowedGrowth ? b : a,
    );
  const msg = `${fits.length > 1 ? `segment ${worst.seg}: ` : ''}slope ${t.unit(worst.slopePerHour)}/h, fitted growth ${t.unit(worst.fittedGrowth)} over ${(worst.windowHours * 60).toFixed(1)} min (allowed ${t.unit(worst.allowedGrowth)})`;
  if (bad) return fail(msg, ev);
  if (longest < minMs) {
    if (grown)
      return fail(
        `segment ${grown.seg}: grew ${t.unit(grown.wholeGrowth)} in ${(longest / 60_000).toFixed(1)} min (more than the ${t.unit(t.floor(sum.first))} allowed for any window)`,
        ev,
      );
    return skip(
      `observed ${(longest / 60_000).toFixed(1)} min < ${(minMs / 60_000).toFixed(0)} min: too short to judge a trend (${msg})`,
      ev,
    );
  }
  return pass(msg, ev);
}

/** Why a short run has no window: every segment ended within the warm-up. */
function warmupNote(samples: readonly Sample[], t: TrendSpec): string {
  if (!t.warmupMs || samples.length === 0) return '';
  const segs = [...new Set(samples.map((s) => s.seg))];
  const spans = segs.map((seg) => {
    const own = samples.filter((s) => s.seg === seg);
    return (own.at(-1)?.a ?? 0) - (own[0]?.a ?? 0);
  });
  return ` after the warm-up: the longest segment lasted ${(Math.max(...spans) / 60_000).toFixed(1)} min, the first ${(t.warmupMs / 60_000).toFixed(0)} min of each are the agent's warm-up (heaps and allocator arenas growing to their working size)`;
}

const mib = (v: number): string => `${(v / MiB).toFixed(2)} MiB`;
const count = (v: number): string => v.toFixed(2);

/** A trend check: nothing to collect, the samples are the evidence. */
function trendCheck(t: TrendSpec): CheckImpl<Record<string, never>> {
  return check({ collect: () => Promise.resolve({}), judge: (input) => judgeTrend(input, t) });
}

/** ER-RES-MEMORY */
export const memoryCheck = trendCheck({
  field: 'rss',
  perHour: 32 * MiB,
  floor: (first) => first * 0.25,
  unit: mib,
  // Measured (docs/edgeready.md, ER-RES-MEMORY): under a stress load on a busy 2-core host the
  // agent's RSS rises for ~2.5 min (main thread and ingest workers' V8 heaps, glibc arenas)
  // and then holds; 10% of a short run cut only its first seconds and judged that rise as a leak.
  warmupMs: MEMORY_WARMUP_MS,
});

/** ER-RES-FDS */
export const fdsCheck = trendCheck({ field: 'fds', perHour: 4, floor: () => 16, unit: count });

/** ER-RES-DISK */
export const diskCheck = trendCheck({
  field: 'diskBytes',
  perHour: 256 * MiB,
  floor: () => 128 * MiB,
  unit: mib,
  wholeGrowth: true,
});

/** Readings of a host root other than / are a fixture, not this machine's sensors. */
export function fixtureRoot(root: string): string | undefined {
  return root === '/'
    ? undefined
    : `read from --root ${root} (a fixture), not this host's /sys and /proc`;
}

interface ThermalRaw {
  readonly root: string;
  readonly zones: ThermalZone[];
  readonly throttleStart: Record<string, number>;
  readonly throttleEnd: Record<string, number>;
}

/** ER-RES-THERMAL */
export const thermalCheck = check<ThermalRaw>({
  collect: async (ctx) => ({
    root: ctx.opts.root,
    zones: await readThermal(ctx.opts.root),
    throttleStart: ctx.state.throttleStart ?? {},
    throttleEnd: await readThrottle(ctx.opts.root),
  }),
  judge: ({ raw, samples }): Outcome => {
    const temp = summarize(samples, 'tempC');
    if (raw.zones.length === 0 || !temp)
      return skip('no /sys/class/thermal zone on this host (virtual machine or container)');
    const increased = Object.entries(raw.throttleEnd).filter(([k, v]) => {
      const s = raw.throttleStart[k];
      if (k === 'rpi/get_throttled') return (v & 0x6) !== 0; // capped or throttled now
      return s !== undefined && v > s;
    });
    const crit = Math.min(...raw.zones.map((z) => (z.criticalC ?? 100) - 5));
    const ev = { ...raw, maxC: temp.max, meanC: temp.mean, limitC: crit };
    if (temp.max >= crit)
      return fail(`max temperature ${temp.max.toFixed(1)} °C >= ${crit} °C`, ev);
    if (increased.length > 0)
      return fail(
        `thermal throttling observed: ${increased.map(([k, v]) => `${k}=${v}`).join(', ')}`,
        ev,
      );
    return passUnless(
      fixtureRoot(raw.root),
      `max ${temp.max.toFixed(1)} °C (< ${crit} °C), no throttling`,
      ev,
    );
  },
});

interface CpufreqRaw {
  readonly root: string;
  readonly maxMHz: number[];
}

/** ER-RES-CPUFREQ */
export const cpufreqCheck = check<CpufreqRaw>({
  collect: async (ctx) => ({
    root: ctx.opts.root,
    maxMHz: (await readCpufreq(ctx.opts.root)).maxMHz,
  }),
  judge: ({ raw, samples }): Outcome => {
    const ys = samples.map((s) => s.cpuMHz).filter((v): v is number => typeof v === 'number');
    if (raw.maxMHz.length === 0 || ys.length === 0)
      return skip('no cpufreq on this host (virtual machine or container)');
    const rated = Math.max(...raw.maxMHz);
    const sorted = [...ys].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const ev = {
      ratedMHz: rated,
      minMHz: sorted[0],
      medianMHz: median,
      maxMHz: sorted.at(-1),
      samples: ys.length,
    };
    return median >= rated * 0.8
      ? passUnless(
          fixtureRoot(raw.root),
          `median ${median.toFixed(0)} MHz of rated ${rated.toFixed(0)} MHz`,
          ev,
        )
      : fail(`median ${median.toFixed(0)} MHz < 80% of rated ${rated.toFixed(0)} MHz (capped)`, ev);
  },
});
