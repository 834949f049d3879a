import { readThermal, readThrottle, readCpufreq } from '../sample/sysfs.js';
import { linearTrend, summarize, type Sample, type SampleField } from '../sample/series.js';
import { fail, pass, skip, type CheckContext, type CheckImpl, type Outcome } from './types.js';

const MiB = 1024 * 1024;

/** Points of one segment after its own warm-up (the first 10% of the segment). */
function segmentPoints(
  series: readonly Sample[],
  seg: number,
  field: SampleField,
): { x: number; y: number }[] {
  const own = series.filter((s) => s.seg === seg);
  const a0 = own[0]?.a ?? 0;
  const a1 = own.at(-1)?.a ?? 0;
  const from = a0 + (a1 - a0) * 0.1;
  return own
    .filter((s) => s.a >= from && typeof s[field] === 'number')
    .map((s) => ({ x: s.a / 3_600_000, y: s[field] as number }));
}

/**
 * Growth over the post-warm-up window must stay under max(perHour × hours, floor(first value)):
 * a per-hour rate for long runs, and a tolerance for short ones where start-up allocation
 * dominates the slope. Each segment is fitted on its own: after a resume the agent may be a new
 * process (reboot), whose fresh RSS would otherwise bend one line across both.
 */
function trend(
  ctx: CheckContext,
  field: SampleField,
  perHour: number,
  floor: (first: number) => number,
  unit: (v: number) => string,
): Outcome {
  const sum = summarize(ctx.series, field);
  const segs = [...new Set(ctx.series.map((s) => s.seg))];
  const fits = segs
    .map((seg) => {
      const pts = segmentPoints(ctx.series, seg, field);
      const fit = linearTrend(pts);
      if (!fit || pts.length < 5) return undefined;
      const hours = (pts.at(-1)?.x ?? 0) - (pts[0]?.x ?? 0);
      const growth = fit.slope * hours;
      const allowed = Math.max(perHour * hours, floor(pts[0]?.y ?? 0));
      return {
        seg,
        samples: pts.length,
        windowHours: hours,
        slopePerHour: fit.slope,
        slopeStdErr: fit.se,
        fittedGrowth: growth,
        allowedGrowth: allowed,
        ok: growth <= allowed,
      };
    })
    .filter((f) => f !== undefined);
  if (!sum || fits.length === 0)
    return fail(`too few ${field} samples to fit a trend in any segment`, { samples: sum?.n ?? 0 });
  const ev = { segments: fits, first: sum.first, last: sum.last, min: sum.min, max: sum.max };
  const worst =
    fits.find((f) => !f.ok) ??
    fits.reduce((a, b) =>
      b.fittedGrowth / b.allowedGrowth > a.fittedGrowth / a.allowedGrowth ? b : a,
    );
  const msg = `${fits.length > 1 ? `segment ${worst.seg}: ` : ''}slope ${unit(worst.slopePerHour)}/h, fitted growth ${unit(worst.fittedGrowth)} over ${(worst.windowHours * 60).toFixed(1)} min (allowed ${unit(worst.allowedGrowth)})`;
  return worst.ok ? pass(msg, ev) : fail(msg, ev);
}

const mib = (v: number): string => `${(v / MiB).toFixed(2)} MiB`;
const count = (v: number): string => v.toFixed(2);

/** ER-RES-MEMORY */
export const memoryCheck: CheckImpl = (ctx) =>
  Promise.resolve(trend(ctx, 'rss', 32 * MiB, (first) => first * 0.25, mib));

/** ER-RES-FDS */
export const fdsCheck: CheckImpl = (ctx) => Promise.resolve(trend(ctx, 'fds', 4, () => 16, count));

/** ER-RES-DISK */
export const diskCheck: CheckImpl = (ctx) =>
  Promise.resolve(trend(ctx, 'diskBytes', 256 * MiB, () => 128 * MiB, mib));

/** ER-RES-THERMAL */
export const thermalCheck: CheckImpl = async (ctx) => {
  const zones = await readThermal(ctx.opts.root);
  const temp = summarize(ctx.series, 'tempC');
  if (zones.length === 0 || !temp)
    return skip('no /sys/class/thermal zone on this host (virtual machine or container)');
  const throttleEnd = await readThrottle(ctx.opts.root);
  const start = ctx.state.throttleStart ?? {};
  const increased = Object.entries(throttleEnd).filter(([k, v]) => {
    const s = start[k];
    if (k === 'rpi/get_throttled') return (v & 0x6) !== 0; // capped or throttled now
    return s !== undefined && v > s;
  });
  const crit = Math.min(...zones.map((z) => (z.criticalC ?? 100) - 5));
  const ev = {
    zones,
    maxC: temp.max,
    meanC: temp.mean,
    limitC: crit,
    throttleStart: start,
    throttleEnd,
  };
  if (temp.max >= crit) return fail(`max temperature ${temp.max.toFixed(1)} °C >= ${crit} °C`, ev);
  if (increased.length > 0)
    return fail(
      `thermal throttling observed: ${increased.map(([k, v]) => `${k}=${v}`).join(', ')}`,
      ev,
    );
  return pass(`max ${temp.max.toFixed(1)} °C (< ${crit} °C), no throttling`, ev);
};

/** ER-RES-CPUFREQ */
export const cpufreqCheck: CheckImpl = async (ctx) => {
  const f = await readCpufreq(ctx.opts.root);
  const ys = ctx.series.map((s) => s.cpuMHz).filter((v): v is number => typeof v === 'number');
  if (f.maxMHz.length === 0 || ys.length === 0)
    return skip('no cpufreq on this host (virtual machine or container)');
  const rated = Math.max(...f.maxMHz);
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
    ? pass(`median ${median.toFixed(0)} MHz of rated ${rated.toFixed(0)} MHz`, ev)
    : fail(`median ${median.toFixed(0)} MHz < 80% of rated ${rated.toFixed(0)} MHz (capped)`, ev);
};
