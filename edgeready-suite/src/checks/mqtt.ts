import { metricSum } from '../agent/agent-http.js';
import type { Segment } from '../run/types.js';
import { check, fail, pass, type CheckContext, type Outcome } from './types.js';

/** How a segment's load ended: drained, stopped while messages were unacknowledged, or cut. */
export type SegmentState = 'live' | 'clean' | 'stalled' | 'cut';

/** Per-key counts as recorded: what the suite sent and got acknowledged, what the agent serves. */
export interface KeyRaw {
  readonly sent: number;
  readonly acked: number;
  readonly seq: number | null;
  readonly value: number | null;
}

/** One segment's raw counts. */
export interface SegmentRaw {
  readonly index: number;
  readonly state: SegmentState;
  readonly published: number;
  readonly acked: number;
  readonly errors: number;
  readonly backpressure: number;
  readonly keys?: Readonly<Record<string, KeyRaw>>;
}

export function segmentState(seg: Segment, live: boolean): SegmentState {
  if (live) return 'live';
  return seg.end === 'drained' ? 'clean' : seg.end === 'stalled' ? 'stalled' : 'cut';
}

function isLive(ctx: CheckContext, seg: Segment): boolean {
  return ctx.load !== undefined && seg.index === ctx.state.segments.at(-1)?.index && !seg.endedAt;
}

/** Load counters of every segment (live ones from the running load). */
export function segmentCounts(ctx: CheckContext): SegmentRaw[] {
  return ctx.state.segments.map((seg) => {
    const live = isLive(ctx, seg);
    const l = live ? ctx.load : undefined;
    return {
      index: seg.index,
      state: segmentState(seg, live),
      published: l ? l.sentTotal : seg.published,
      acked: l ? l.ackedTotal : seg.acked,
      errors: l ? l.errors : seg.errors,
      backpressure: l ? l.backpressure : seg.backpressure,
    };
  });
}

async function collectQos2(ctx: CheckContext): Promise<{
  segments: SegmentRaw[];
  agentDuplicateFilterHits: number | null;
}> {
  const segments: SegmentRaw[] = [];
  for (const [i, base] of segmentCounts(ctx).entries()) {
    const seg = ctx.state.segments[i] as Segment;
    const live = base.state === 'live';
    // Live segment: PUBCOMP counts before the agent is read, sent counts after, so messages in
    // flight fall between the two bounds.
    const ackedBefore = live
      ? Object.fromEntries(Object.entries(ctx.load?.keys ?? {}).map(([k, c]) => [k, c.acked]))
      : undefined;
    const counters = live && ctx.load ? ctx.load.keys : seg.keys;
    if (Object.keys(counters).length === 0 && !live) {
      segments.push(base);
      continue;
    }
    const readings = await ctx.agent.sensors(`${seg.devicePrefix}p`);
    const byKey = new Map(readings.map((r) => [r.key, r]));
    const keys: Record<string, KeyRaw> = {};
    for (const [key, c] of Object.entries(counters)) {
      const r = byKey.get(key);
      keys[key] = {
        sent: c.sent,
        acked: ackedBefore?.[key] ?? c.acked,
        seq: r?.seq ?? null,
        value: typeof r?.value === 'number' ? r.value : null,
      };
    }
    segments.push({ ...base, keys });
  }
  let dup: number | undefined;
  try {
    dup = metricSum(await ctx.agent.metrics(), 'edgeflow_ingest_duplicates_total');
  } catch {
    /* evidence only */
  }
  return { segments, agentDuplicateFilterHits: dup ?? null };
}

interface SegmentVerdict {
  segment: number;
  state: SegmentState;
  keys: number;
  published: number;
  acked: number;
  applied: number;
  duplicates: number;
  losses: number;
  differing: string[];
}

function judgeKeys(s: SegmentRaw): SegmentVerdict {
  const v: SegmentVerdict = {
    segment: s.index,
    state: s.state,
    keys: Object.keys(s.keys ?? {}).length,
    published: s.published,
    acked: s.acked,
    applied: 0,
    duplicates: 0,
    losses: 0,
    differing: [],
  };
  for (const [key, c] of Object.entries(s.keys ?? {})) {
    const seq = c.seq ?? 0;
    const value = c.value ?? 0;
    v.applied += seq;
    let why: string | undefined;
    if (seq !== value) {
      // The served value is the newest counter applied: seq below it means a counter never
      // arrived, above it means one arrived twice.
      if (seq > value) v.duplicates += seq - value;
      else v.losses += value - seq;
      why = `seq ${seq} != latest counter ${value}`;
    } else if (s.state === 'clean' && seq !== c.acked) {
      if (seq > c.acked) v.duplicates += seq - c.acked;
      else v.losses += c.acked - seq;
      why = `seq ${seq} != PUBCOMPs ${c.acked}`;
    } else if (seq < c.acked) {
      v.losses += c.acked - seq;
      why = `seq ${seq} < PUBCOMPs ${c.acked}`;
    } else if (s.state === 'live' && seq > c.sent) {
      v.duplicates += seq - c.sent;
      why = `seq ${seq} > sent ${c.sent}`;
    }
    if (why && v.differing.length < 20) v.differing.push(`${key}: ${why}`);
  }
  return v;
}

/** Segment-level failures: sent vs acknowledged, whatever the keys say. */
function segmentProblem(s: SegmentRaw): string | undefined {
  if (s.state === 'stalled')
    return `segment ${s.index}: the agent stopped acknowledging: published ${s.published}, acknowledged ${s.acked}, ${s.published - s.acked} unacknowledged when the load stopped (backpressure ${s.backpressure})`;
  if (s.errors > 0)
    return `segment ${s.index}: ${s.errors} publish(es) failed (published ${s.published}, acknowledged ${s.acked})`;
  if (s.state === 'clean' && s.acked !== s.published)
    return `segment ${s.index}: published ${s.published} but acknowledged ${s.acked}`;
  return undefined;
}

/** ER-MQTT-QOS2: sent vs acknowledged vs applied, per segment and per key, on counts. */
export const qos2Check = check({
  collect: collectQos2,
  judge: ({ raw }): Outcome => {
    const judged = raw.segments.filter((s) => s.keys !== undefined || s.published > 0);
    const verdicts = judged.map(judgeKeys);
    const ev = { segments: verdicts, agentDuplicateFilterHits: raw.agentDuplicateFilterHits };
    const total = verdicts.reduce((a, v) => a + v.acked, 0);
    const problems = judged.map(segmentProblem).filter((p) => p !== undefined);
    if (problems.length > 0) return fail(problems.join('; '), ev);
    if (verdicts.length === 0 || total === 0) return fail('no QoS 2 message was acknowledged', ev);
    const bad = verdicts.filter((v) => v.duplicates > 0 || v.losses > 0);
    if (bad.length > 0)
      return fail(
        `${bad.reduce((a, v) => a + v.duplicates, 0)} duplicate(s), ${bad.reduce((a, v) => a + v.losses, 0)} loss(es): ${bad[0]?.differing[0] ?? ''}`,
        ev,
      );
    return pass(
      `${total} PUBCOMPs over ${verdicts.length} segment(s), ${verdicts.reduce((a, v) => a + v.keys, 0)} keys: every message sent was acknowledged and applied exactly once`,
      ev,
    );
  },
});
