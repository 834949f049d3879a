import type { OtaView } from '../api/types.js';

/** What the Updates page says about a release on trial, at agent time `now`. */
export interface TrialClock {
  /** Seconds until the root-side check rolls the trial back unless it is committed. */
  readonly rollbackInSec: number | null;
  /** Seconds until the agent commits it if health holds; null while not yet healthy. */
  readonly commitInSec: number | null;
  readonly phase: 'waiting-ready' | 'probation' | 'committing' | 'failed' | 'overdue';
}

export function trialClock(v: OtaView, now: number): TrialClock | null {
  if (v.trial === null) return null;
  const rollbackInSec = v.deadlineAt === null ? null : (v.deadlineAt - now) / 1000;
  const commitInSec = v.commitAt === null ? null : Math.max(0, (v.commitAt - now) / 1000);
  let phase: TrialClock['phase'];
  if (v.report?.failure) phase = 'failed';
  else if (rollbackInSec !== null && rollbackInSec <= 0) phase = 'overdue';
  else if (v.report?.committedAt || (commitInSec !== null && commitInSec <= 0))
    phase = 'committing';
  else if (v.commitAt === null) phase = 'waiting-ready';
  else phase = 'probation';
  return { rollbackInSec, commitInSec, phase };
}
