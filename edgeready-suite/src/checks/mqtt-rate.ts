import { LatencyHistogram } from '../load/histogram.js';
import type { Sample } from '../sample/series.js';
import { segmentCounts, type SegmentRaw } from './mqtt.js';
import { check, fail, pass, skip, type Outcome } from './types.js';

/** Default longest time without a PUBCOMP while messages are in flight (--stall-limit). */
export const DEFAULT_STALL_MS = 10_000;
/** Publishes the load had to hold back (in-flight window full) beyond this share fail. */
export const MAX_BACKPRESSURE = 0.1;

/** Longest stretch (active ms) with messages in flight and no PUBCOMP, per segment. */
export function longestStall(samples: readonly Sample[]): { seg: number; ms: number; at: number } {
  let worst = { seg: -1, ms: 0, at: 0 };
  let run = 0;
  let prev: Sample | undefined;
  for (const s of samples) {
    if (prev === undefined || prev.seg !== s.seg) run = 0;
    const loaded = typeof s.rate === 'number';
    if (loaded && s.rate === 0 && (s.inflight ?? 0) > 0) {
      run += prev && prev.seg === s.seg ? s.a - prev.a : 0;
      if (run > worst.ms) worst = { seg: s.seg, ms: run, at: s.a };
    } else run = 0;
    prev = s;
  }
  return worst;
}

/** Time-weighted mean PUBCOMP rate over the samples taken while the load ran. */
function achievedRate(samples: readonly Sample[]): { rate: number; seconds: number } {
  let acks = 0;
  let ms = 0;
  let prev: Sample | undefined;
  for (const s of samples) {
    if (typeof s.rate === 'number' && prev && prev.seg === s.seg && s.a > prev.a) {
      acks += s.rate * ((s.a - prev.a) / 1000);
      ms += s.a - prev.a;
    }
    prev = s;
  }
  return { rate: ms > 0 ? acks / (ms / 1000) : 0, seconds: ms / 1000 };
}

/** Problems every mode judges: stalls, a held-back load, a segment that never drained. */
function loadProblems(raw: ThroughputRaw, samples: readonly Sample[], stallMs: number): string[] {
  const out: string[] = [];
  const stall = longestStall(samples);
  if (stall.ms >= stallMs)
    out.push(
      `no PUBCOMP for ${(stall.ms / 1000).toFixed(0)} s with messages in flight (segment ${stall.seg}, at ${(stall.at / 1000).toFixed(0)} s; limit ${stallMs / 1000} s)`,
    );
  for (const s of raw.segments) {
    const due = s.published + s.backpressure;
    if (due > 0 && s.backpressure / due > MAX_BACKPRESSURE)
      out.push(
        `segment ${s.index}: ${s.backpressure} of ${due} due publishes held back (in-flight window full): the agent did not keep up`,
      );
    if (s.state === 'stalled')
      out.push(`segment ${s.index}: ${s.published - s.acked} messages never acknowledged`);
  }
  return out;
}

interface ThroughputRaw {
  readonly segments: readonly SegmentRaw[];
}

/** ER-MQTT-THROUGHPUT: stalls and backpressure in both modes; windows at rate in stress. */
export const throughputCheck = check<ThroughputRaw>({
  collect: (ctx) => Promise.resolve({ segments: segmentCounts(ctx) }),
  judge: ({ raw, options, samples }): Outcome => {
    const stallMs = options.stallLimitMs ?? DEFAULT_STALL_MS;
    const problems = loadProblems(raw, samples, stallMs);
    // Windows of >= 10 s: one-second samples jitter with scheduling on a busy board while the
    // load generator catches up on its schedule.
    const win = Math.max(10_000, options.sampleMs);
    // Each segment's first window is its warm-up (publishers connect, a resumed agent starts),
    // like the first 10 % of the run.
    const segStart = new Map<number, number>();
    for (const s of samples)
      if (typeof s.rate === 'number' && !segStart.has(s.seg)) segStart.set(s.seg, s.a);
    const buckets = new Map<string, number[]>();
    for (const s of samples) {
      if (typeof s.rate !== 'number' || s.a < (samples.at(-1)?.a ?? 0) * 0.1) continue;
      if (s.a - (segStart.get(s.seg) ?? 0) < win) continue;
      const b = `${s.seg}:${Math.floor(s.a / win)}`;
      buckets.set(b, [...(buckets.get(b) ?? []), s.rate]);
    }
    const ys = [...buckets.values()]
      .filter((v) => v.length >= 2)
      .map((v) => v.reduce((a, c) => a + c, 0) / v.length);
    const achieved = achievedRate(samples);
    const target = options.rate * 0.9;
    const below = ys.filter((y) => y < target).length;
    const ev = {
      targetRate: options.rate,
      achievedRate: achieved.rate,
      loadSeconds: achieved.seconds,
      windows: ys.length,
      windowsBelow90pct: below,
      min: ys.length ? Math.min(...ys) : null,
      max: ys.length ? Math.max(...ys) : null,
      longestStallMs: longestStall(samples).ms,
      segments: raw.segments,
    };
    if (problems.length > 0) return fail(problems.join('; '), ev);
    if (options.mode === 'stress') {
      if (ys.length < 3) return fail(`only ${ys.length} load window(s) recorded`, ev);
      return below <= ys.length * 0.1
        ? pass(`${ys.length - below}/${ys.length} windows at >= 90% of ${options.rate}/s`, ev)
        : fail(`${below}/${ys.length} windows below 90% of ${options.rate}/s`, ev);
    }
    // Functional mode: a short burst; judge the rate achieved over it.
    if (achieved.seconds === 0) return skip('the load ran for less than one sample period', ev);
    return achieved.rate >= target
      ? pass(
          `${achieved.rate.toFixed(0)}/s over ${achieved.seconds.toFixed(0)} s (target ${options.rate}/s), no stall`,
          ev,
        )
      : fail(
          `${achieved.rate.toFixed(0)}/s over ${achieved.seconds.toFixed(0)} s < 90% of ${options.rate}/s`,
          ev,
        );
  },
});

interface LatencyRaw {
  readonly latency: { counts: number[]; max: number };
  readonly cacheLatency: { counts: number[]; max: number };
  /** Messages published and never acknowledged in segments that were not cut by a crash. */
  readonly unacknowledged: number;
}

/** ER-MQTT-LATENCY: p99 over every message sent, an unacknowledged one counting as infinite. */
export const latencyCheck = check<LatencyRaw>({
  collect: (ctx) =>
    Promise.resolve({
      latency: ctx.state.latency,
      cacheLatency: ctx.state.cacheLatency,
      unacknowledged: segmentCounts(ctx)
        .filter((s) => s.state === 'stalled' || s.state === 'clean')
        .reduce((a, s) => a + Math.max(0, s.published - s.acked), 0),
    }),
  judge: ({ raw, options }): Outcome => {
    const h = new LatencyHistogram(raw.latency.counts, raw.latency.max);
    const c = new LatencyHistogram(raw.cacheLatency.counts, raw.cacheLatency.max);
    const total = h.total + raw.unacknowledged;
    const rank = Math.ceil(0.99 * total);
    const p99 = rank > h.total ? Infinity : h.quantile(0.99 * (h.total / total || 1));
    const ev = {
      messages: total,
      acknowledged: h.total,
      unacknowledged: raw.unacknowledged,
      p50Ms: h.quantile(0.5) ?? null,
      p99Ms: p99 === Infinity ? 'unbounded' : (p99 ?? null),
      maxMs: h.max,
      limitMs: options.p99LimitMs,
      publishToCache: {
        samples: c.total,
        p50Ms: c.quantile(0.5) ?? null,
        p99Ms: c.quantile(0.99) ?? null,
        maxMs: c.max,
      },
    };
    if (h.total === 0) return fail('no PUBCOMP was received', ev);
    if (p99 === Infinity)
      return fail(
        `${raw.unacknowledged} of ${total} messages were never acknowledged: p99 unbounded`,
        ev,
      );
    if (p99 === undefined) return fail('no latency recorded', ev);
    return p99 <= options.p99LimitMs
      ? pass(
          `p99 publish→PUBCOMP ${p99.toFixed(1)} ms <= ${options.p99LimitMs} ms over ${total} messages`,
          ev,
        )
      : fail(`p99 publish→PUBCOMP ${p99.toFixed(1)} ms > ${options.p99LimitMs} ms`, ev);
  },
});
