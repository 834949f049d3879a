import { unitServes, whyNotServing } from '../agent/serving.js';
import { fail, pass, passUnless, type Outcome } from '../checks/types.js';
import type { ScratchDrillRaw, SystemdDrillRaw, TrialRun } from './drill-types.js';

const SCRATCH_STAND_IN =
  'drill on a scratch root: no systemd restart, the agent under test was not updated';

/** The scratch-root drill: the state machine's answer, a stand-in (`simulated`) at best. */
export function judgeScratchDrill(raw: ScratchDrillRaw, limitSec: number): Outcome {
  const ev = { ...raw, limitSec };
  if (raw.error !== null) return fail(`OTA drill failed: ${raw.error}`, ev);
  const rb = raw.rollback;
  if (rb?.action !== 'rolled-back' || rb.to !== '1.0.0')
    return fail(
      `the failing 1.1.0 was not rolled back (prestart: ${rb?.action ?? '?'} to ${rb?.to ?? '?'})`,
      ev,
    );
  const sec = raw.rollbackSec ?? Infinity;
  if (sec > limitSec) return fail(`rollback took ${sec.toFixed(1)} s > ${limitSec} s`, ev);
  if (raw.end?.current !== '1.2.0' || raw.end.trial !== null)
    return fail(
      `the good 1.2.0 did not commit (current ${raw.end?.current ?? '?'}, trial ${raw.end?.trial ?? 'none'})`,
      ev,
    );
  return passUnless(
    raw.standIn ?? SCRATCH_STAND_IN,
    `1.1.0 rolled back to 1.0.0 in ${sec.toFixed(1)} s, then 1.2.0 committed`,
    ev,
  );
}

const seconds = (from: number | null, to: number | null): number | null =>
  from === null || to === null ? null : Math.round(to - from) / 1000;

function ended(t: TrialRun): string {
  switch (t.outcome) {
    case 'install-failed':
      return `was not installed: ${t.reason ?? '?'}`;
    case 'on-trial':
      return 'was still on trial when the drill stopped waiting';
    case 'committed':
      return 'was committed';
    case 'rolled-back':
      return `was rolled back (${t.reason ?? '?'})`;
  }
}

/** Why the good release did not commit, if it did not. */
function commitProblem(raw: SystemdDrillRaw): string | undefined {
  const g = raw.good;
  if (!g)
    return raw.error === null ? 'commit never happened: no good release was installed' : undefined;
  if (g.outcome !== 'committed')
    return `commit never happened: the good release ${g.version} ${ended(g)}`;
  if (g.servingAt === null)
    return `the good release ${g.version} committed, but ${raw.unit} never served from it (${g.serving ? whyOf(raw, g) : 'not probed'})`;
  return undefined;
}

function whyOf(raw: SystemdDrillRaw, t: TrialRun): string {
  const p = t.serving;
  if (!p) return 'not probed';
  return unitServes(p)
    ? `it runs ${p.release ?? p.cmdline ?? '?'}, not releases/${t.expect ?? '?'}`
    : whyNotServing(p, raw.url);
}

/** Why the failing release's rollback is missing, incomplete or too slow, if it is. */
function rollbackProblem(raw: SystemdDrillRaw, limitSec: number): string | undefined {
  const b = raw.bad;
  if (raw.good?.outcome !== 'committed') return undefined; // the drill stopped before it
  if (!b)
    return raw.error === null
      ? 'rollback never happened: no failing release was installed'
      : undefined;
  if (b.outcome !== 'rolled-back')
    return `rollback never happened: the failing release ${b.version} ${ended(b)}`;
  const sec = seconds(b.installedAt, b.servingAt);
  if (sec === null)
    return `rollback never completed: after rolling back ${b.version}, ${raw.unit} never served from ${b.expect ?? '?'} (${whyOf(raw, b)})`;
  if (sec > limitSec)
    return `rollback too slow: ${sec.toFixed(1)} s from the install of ${b.version} until ${raw.unit} served ${b.expect ?? '?'} again > ${limitSec} s (--ota-rollback-limit)`;
  return undefined;
}

/** Whether the device ended where the drill must leave it: the unit serving the expected release. */
function endProblem(raw: SystemdDrillRaw): string | undefined {
  const expect =
    raw.good?.outcome === 'committed' ? raw.good.version : (raw.before?.current ?? null);
  if (raw.before === null) return undefined; // the drill never started: nothing to compare
  const a = raw.after;
  if (!a) return 'no OTA state could be read after the drill';
  if (expect === null) return undefined;
  if (a.current !== expect || a.trial !== null)
    return `agent on the wrong release after the drill: the OTA state says current ${a.current ?? 'none'}${a.trial ? `, trial ${a.trial}` : ''}, expected ${expect}`;
  if (!unitServes(a.serving)) return `after the drill: ${whyNotServing(a.serving, raw.url)}`;
  if (a.serving.release !== expect)
    return `agent on the wrong release after the drill: ${raw.unit} (PID ${a.serving.pid ?? '?'}) runs ${a.serving.release !== null ? `release ${a.serving.release}` : (a.serving.cmdline ?? '?')}, expected releases/${expect}`;
  return undefined;
}

/** Restarts of the unit systemd counted during the drill (NRestarts), when both ends are known. */
function restarts(raw: SystemdDrillRaw): number | null {
  const u0 = raw.before?.serving.unit;
  const u1 = raw.after?.serving.unit;
  if (!u0 || !u1 || 'error' in u0 || 'error' in u1) return null;
  return u1.nRestarts - u0.nRestarts;
}

/**
 * The real drill under systemd. Fails for each reason its catalog row names: the good release
 * never commits, the failing one is never rolled back (or the agent never serves again), the
 * rollback is slower than --ota-rollback-limit, the agent is on the wrong release afterwards.
 */
export function judgeSystemdDrill(raw: SystemdDrillRaw, limitSec: number): Outcome {
  const commitSec = seconds(raw.good?.installedAt ?? null, raw.good?.outcomeSeenAt ?? null);
  const rollbackSec = seconds(raw.bad?.installedAt ?? null, raw.bad?.servingAt ?? null);
  const ev = { ...raw, limitSec, commitSec, rollbackSec, unitRestarts: restarts(raw) };
  const problems = [
    raw.error !== null ? `the drill could not run: ${raw.error}` : undefined,
    commitProblem(raw),
    rollbackProblem(raw, limitSec),
    endProblem(raw),
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    const cleanup = raw.cleanup.length > 0 ? ` (then: ${raw.cleanup.join('; ')})` : '';
    return fail(`${problems.join('; ')}${cleanup}`, ev);
  }
  const g = raw.good as TrialRun;
  const b = raw.bad as TrialRun;
  return pass(
    `under systemd (${raw.unit}): ${g.version} committed ${commitSec?.toFixed(1) ?? '?'} s after its install, ${b.version} rolled back to ${g.version} and served again in ${rollbackSec?.toFixed(1) ?? '?'} s (${b.reason ?? '?'}); ${restarts(raw) ?? '?'} automatic restart(s) by systemd`,
    ev,
  );
}
