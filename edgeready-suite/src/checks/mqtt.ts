import type { AgentReading } from '../agent/agent-http.js';
import { LatencyHistogram } from '../load/histogram.js';
import { metricSum } from '../agent/agent-http.js';
import type { Segment } from '../run/types.js';
import { fieldPoints } from '../sample/series.js';
import { fail, pass, skip, type CheckContext, type CheckImpl } from './types.js';

interface SegmentVerdict {
  segment: number;
  state: 'live' | 'clean' | 'cut';
  keys: number;
  published: number;
  acked: number;
  applied: number;
  duplicates: number;
  losses: number;
  differing: string[];
}

async function judgeSegment(
  ctx: CheckContext,
  seg: Segment,
  live: boolean,
): Promise<SegmentVerdict> {
  // Live segment: read PUBCOMP counts before the agent, sent counts after, so in-flight
  // messages fall between the two bounds.
  const ackedBefore = live
    ? Object.fromEntries(Object.entries(ctx.load?.keys ?? {}).map(([k, c]) => [k, c.acked]))
    : undefined;
  const readings: AgentReading[] = await ctx.agent.sensors(`${seg.devicePrefix}p`);
  const byKey = new Map(readings.map((r) => [r.key, r]));
  const keys = live && ctx.load ? ctx.load.keys : seg.keys;
  const state: SegmentVerdict['state'] = live ? 'live' : seg.endedCleanly ? 'clean' : 'cut';
  const v: SegmentVerdict = {
    segment: seg.index,
    state,
    keys: Object.keys(keys).length,
    published: 0,
    acked: 0,
    applied: 0,
    duplicates: 0,
    losses: 0,
    differing: [],
  };
  for (const [key, c] of Object.entries(keys)) {
    const r = byKey.get(key);
    const seq = r?.seq ?? 0;
    const value = typeof r?.value === 'number' ? r.value : 0;
    const acked = ackedBefore?.[key] ?? c.acked;
    v.published += c.sent;
    v.acked += acked;
    v.applied += seq;
    let why: string | undefined;
    if (seq !== value) {
      // The served value is the newest counter applied: seq below it means a counter never
      // arrived, above it means one arrived twice.
      if (seq > value) v.duplicates += seq - value;
      else v.losses += value - seq;
      why = `seq ${seq} != latest counter ${value}`;
    } else if (state === 'clean' && seq !== c.acked) {
      if (seq > c.acked) v.duplicates += seq - c.acked;
      else v.losses += c.acked - seq;
      why = `seq ${seq} != PUBCOMPs ${c.acked}`;
    } else if (seq < acked) {
      v.losses += acked - seq;
      why = `seq ${seq} < PUBCOMPs ${acked}`;
    } else if (state === 'live' && seq > c.sent) {
      v.duplicates += seq - c.sent;
      why = `seq ${seq} > sent ${c.sent}`;
    }
    if (why && v.differing.length < 20) v.differing.push(`${key}: ${why}`);
  }
  return v;
}

/** ER-MQTT-QOS2: exactly once, judged per key on counts. */
export const qos2Check: CheckImpl = async (ctx) => {
  const verdicts: SegmentVerdict[] = [];
  for (const seg of ctx.state.segments) {
    const live =
      ctx.load !== undefined && seg.index === ctx.state.segments.at(-1)?.index && !seg.endedAt;
    if (!live && Object.keys(seg.keys).length === 0) continue;
    verdicts.push(await judgeSegment(ctx, seg, live));
  }
  let dupMetric: number | undefined;
  try {
    dupMetric = metricSum(await ctx.agent.metrics(), 'edgeflow_ingest_duplicates_total');
  } catch {
    /* evidence only */
  }
  const total = verdicts.reduce((a, v) => a + v.acked, 0);
  const ev = { segments: verdicts, agentDuplicateFilterHits: dupMetric ?? null };
  if (verdicts.length === 0 || total === 0) return fail('no QoS 2 message was acknowledged', ev);
  const bad = verdicts.filter((v) => v.duplicates > 0 || v.losses > 0);
  if (bad.length > 0)
    return fail(
      `${bad.reduce((a, v) => a + v.duplicates, 0)} duplicate(s), ${bad.reduce((a, v) => a + v.losses, 0)} loss(es): ${bad[0]?.differing[0] ?? ''}`,
      ev,
    );
  return pass(
    `${total} PUBCOMPs over ${verdicts.length} segment(s), ${verdicts.reduce((a, v) => a + v.keys, 0)} keys: every key applied exactly once`,
    ev,
  );
};

/** ER-MQTT-THROUGHPUT */
export const throughputCheck: CheckImpl = (ctx) => {
  // Judge windows of >= 10 s: one-second samples jitter with scheduling on a busy board while
  // the load generator catches up on its schedule.
  const win = Math.max(10_000, ctx.opts.sampleMs) / 3_600_000;
  const raw = fieldPoints(ctx.series, 'rate');
  const buckets = new Map<number, number[]>();
  for (const p of raw) {
    const b = Math.floor(p.x / win);
    buckets.set(b, [...(buckets.get(b) ?? []), p.y]);
  }
  const pts = [...buckets.entries()]
    .filter(([, ys]) => ys.length >= 2)
    .map(([b, ys]) => ({ x: b * win, y: ys.reduce((a, c) => a + c, 0) / ys.length }));
  if (ctx.opts.mode === 'functional' || pts.length < 3)
    return Promise.resolve(
      skip(`no sustained load to judge (${ctx.opts.mode} mode, ${pts.length} windows)`),
    );
  const target = ctx.opts.rate * 0.9;
  const below = pts.filter((p) => p.y < target);
  const ys = pts.map((p) => p.y);
  const ev = {
    targetRate: ctx.opts.rate,
    windows: pts.length,
    windowsBelow90pct: below.length,
    min: Math.min(...ys),
    mean: ys.reduce((a, b) => a + b, 0) / ys.length,
    max: Math.max(...ys),
  };
  const ok = below.length <= pts.length * 0.1;
  return Promise.resolve(
    ok
      ? pass(
          `${pts.length - below.length}/${pts.length} windows at >= 90% of ${ctx.opts.rate}/s`,
          ev,
        )
      : fail(`${below.length}/${pts.length} windows below 90% of ${ctx.opts.rate}/s`, ev),
  );
};

/** ER-MQTT-LATENCY */
export const latencyCheck: CheckImpl = (ctx) => {
  const h = new LatencyHistogram(ctx.state.latency.counts, ctx.state.latency.max);
  const c = new LatencyHistogram(ctx.state.cacheLatency.counts, ctx.state.cacheLatency.max);
  const p99 = h.quantile(0.99);
  const ev = {
    messages: h.total,
    p50Ms: h.quantile(0.5) ?? null,
    p99Ms: p99 ?? null,
    maxMs: h.max,
    limitMs: ctx.opts.p99LimitMs,
    publishToCache: {
      samples: c.total,
      p50Ms: c.quantile(0.5) ?? null,
      p99Ms: c.quantile(0.99) ?? null,
      maxMs: c.max,
    },
  };
  if (p99 === undefined) return Promise.resolve(fail('no PUBCOMP was received', ev));
  return Promise.resolve(
    p99 <= ctx.opts.p99LimitMs
      ? pass(
          `p99 publish→PUBCOMP ${p99.toFixed(1)} ms <= ${ctx.opts.p99LimitMs} ms over ${h.total} messages`,
          ev,
        )
      : fail(`p99 publish→PUBCOMP ${p99.toFixed(1)} ms > ${ctx.opts.p99LimitMs} ms`, ev),
  );
};
