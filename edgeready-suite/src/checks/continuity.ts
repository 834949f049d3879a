import type { AnchorSummary } from '../evidence/anchors.js';
import type { Gap } from '../run/types.js';
import { check, fail, pass, type Outcome } from './types.js';

/** Default accepted shortfall of the TPM clock against the claimed active time (--clock-tolerance). */
export const DEFAULT_CLOCK_TOLERANCE = 0.02;
/**
 * Largest TPM time between two anchors of one segment beyond the active time the run counted
 * between them (start and end checks run outside active time). Beyond it, the records between
 * the anchors were not written live: someone stopped the run, or wrote them later.
 */
export const UNCOVERED_SLACK_MS = 15 * 60_000;

interface ContinuityRaw {
  readonly gaps: readonly Gap[];
  readonly activeMs: number;
  readonly durationMs: number;
  readonly maxGapRatio: number;
  readonly segments: number;
}

interface Proof {
  provenMs: number;
  reboots: number;
  resumes: number;
  problems: string[];
  anchors: number;
}

type Quoted = AnchorSummary & { clock: number; resetCount: number; restartCount: number };

/** What the anchors' TPM clocks and counters prove about the segments and the gaps between. */
export function proveWithTpm(anchors: readonly AnchorSummary[], raw: ContinuityRaw): Proof {
  const p: Proof = { provenMs: 0, reboots: 0, resumes: 0, problems: [], anchors: 0 };
  const quoted = anchors.filter((a): a is Quoted => a.clock !== null);
  p.anchors = quoted.length;
  let prevSegLast: Quoted | undefined;
  for (let seg = 0; seg < raw.segments; seg++) {
    const own = quoted.filter((a) => a.seg === seg);
    const first = own[0];
    if (!first) {
      p.problems.push(`segment ${seg} has no TPM anchor`);
      continue;
    }
    if (prevSegLast) {
      const gap = raw.gaps[seg - 1];
      const reset = first.resetCount > prevSegLast.resetCount;
      if (first.resetCount < prevSegLast.resetCount)
        p.problems.push(
          `segment ${seg}: TPM resetCount went back (the TPM was cleared or replaced)`,
        );
      else if (reset && gap?.cause !== 'reboot')
        p.problems.push(
          `segment ${seg}: the TPM was reset (resetCount ${prevSegLast.resetCount} -> ${first.resetCount}) but the gap is recorded as ${gap?.cause ?? 'none'}: a reboot not seen by the suite`,
        );
      else if (!reset && gap?.cause === 'reboot')
        p.problems.push(
          `segment ${seg}: the gap says reboot but the TPM resetCount did not change`,
        );
      if (reset) p.reboots++;
    }
    for (let i = 1; i < own.length; i++) {
      const a = own[i - 1] as Quoted;
      const b = own[i] as Quoted;
      if (b.resetCount !== a.resetCount) {
        p.problems.push(`segment ${seg}: the TPM was reset between two anchors of one segment`);
        continue;
      }
      if (b.restartCount !== a.restartCount) p.resumes++;
      const dClock = b.clock - a.clock;
      if (dClock <= 0) {
        p.problems.push(
          `segment ${seg}: the TPM clock did not advance between anchors (${a.why} -> ${b.why})`,
        );
        continue;
      }
      if (dClock > b.a - a.a + UNCOVERED_SLACK_MS)
        p.problems.push(
          `segment ${seg}: ${(dClock / 60_000).toFixed(1)} min of TPM time between the ${a.why} and ${b.why} anchors, but only ${((b.a - a.a) / 60_000).toFixed(1)} min of run: the evidence between them was not recorded live`,
        );
      p.provenMs += dClock;
    }
    prevSegLast = own.at(-1);
  }
  return p;
}

const h = (ms: number): string =>
  ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(2)} h` : `${(ms / 60_000).toFixed(1)} min`;

/**
 * ER-SYS-CONTINUITY: gaps within --max-gap, and the run's length and every reboot proven by
 * the TPM: the anchors' clock must account for the active time claimed, and resetCount must
 * change exactly across the gaps recorded as reboots.
 */
export const continuityCheck = check<ContinuityRaw>({
  collect: (ctx) =>
    Promise.resolve({
      gaps: ctx.state.gaps,
      activeMs: Math.round(ctx.state.activeMs),
      durationMs: ctx.opts.durationMs,
      maxGapRatio: ctx.opts.maxGapRatio,
      segments: ctx.state.segments.length,
    }),
  judge: ({ raw, anchors, options }): Outcome => {
    const tol = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
    const gapSec = raw.gaps.reduce((a, g) => a + g.seconds, 0);
    const limitSec = (raw.durationMs / 1000) * raw.maxGapRatio;
    const proof = proveWithTpm(anchors, raw);
    const ev = {
      gaps: raw.gaps,
      totalGapSec: gapSec,
      limitSec,
      activeSec: raw.activeMs / 1000,
      tpm: { ...proof, provenSec: proof.provenMs / 1000, tolerance: tol },
    };
    const what = raw.gaps.map((g) => `${g.cause} ${g.seconds.toFixed(0)} s`).join(', ');
    if (gapSec > limitSec)
      return fail(
        `${raw.gaps.length} gap(s) (${what}) total ${gapSec.toFixed(0)} s > ${limitSec.toFixed(0)} s`,
        ev,
      );
    if (proof.anchors === 0)
      return fail('no TPM quote anchors the run: its duration and continuity are not proven', ev);
    if (proof.problems.length > 0) return fail(proof.problems.join('; '), ev);
    if (proof.provenMs < raw.activeMs * (1 - tol))
      return fail(
        `the run claims ${h(raw.activeMs)} active, the TPM clock proves ${h(proof.provenMs)}`,
        ev,
      );
    return pass(
      `${raw.gaps.length ? `${raw.gaps.length} gap(s) (${what}) within ${limitSec.toFixed(0)} s; ` : 'no interruption; '}TPM clock over ${proof.anchors} anchors proves ${h(proof.provenMs)} for ${h(raw.activeMs)} active${proof.reboots ? `, ${proof.reboots} reboot(s) matched` : ''}`,
      ev,
    );
  },
});
