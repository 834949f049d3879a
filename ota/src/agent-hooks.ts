import { OtaError } from './errors.js';
import { otaPaths } from './paths.js';
import type { PathOptions } from './paths.js';
import { writeReport } from './report.js';
import type { TrialReport } from './report.js';
import { loadState } from './state.js';

/** What the agent should do after reporting to the trial. */
export type TrialVerdict =
  /** No trial: nothing to do. */
  | 'none'
  /** Still in probation: keep running and keep reporting. */
  | 'trial'
  /** The probation window passed healthy: the release is committed. */
  | 'committed'
  /** The trial failed: exit non-zero now; the restart rolls back to the previous release. */
  | 'rollback';

/** Handle returned by {@link otaOnAgentStart}. Methods never throw for an absent trial. */
export interface AgentTrial {
  /** True when this start is a trial of a newly installed release. */
  readonly inTrial: boolean;
  /** Version on trial (undefined outside a trial). */
  readonly version: string | undefined;
  /** Healthy time after READY needed to commit, ms (0 outside a trial). */
  readonly probationMs: number;
  /** Call right after sending READY=1. */
  onReady(): Promise<TrialVerdict>;
  /**
   * Call on every health evaluation (e.g. each health-check tick): `healthy` = HTTP up, ingest
   * alive (and a fresh attestation if required). Commits once healthy for `probationMs` after READY
   * with no restart; a failed check or passing the deadline yields 'rollback'.
   */
  onHealth(healthy: boolean, detail?: string): Promise<TrialVerdict>;
  /** A copy of what the agent has reported so far (undefined outside a trial). */
  report(): TrialReport | undefined;
  /**
   * An operator commits the trial before its probation window ends (the agent's console, with
   * the API token). Reported exactly like a probation that passed, so the root-side check
   * finalises it; refused ('trial') before READY. Returns the verdict after the call.
   */
  commitNow(): Promise<TrialVerdict>;
  /**
   * An operator rejects the trial: reported as a failure with `reason`; the caller must exit
   * non-zero (verdict 'rollback') so that the next start rolls back.
   */
  rejectNow(reason: string): Promise<TrialVerdict>;
}

export interface AgentTrialOptions extends PathOptions {
  /** Injected clock (ms since epoch); defaults to Date.now. */
  readonly now?: () => number;
}

/** The trial handle when no release is on trial (or the OTA state is unreadable). */
export const NO_TRIAL: AgentTrial = Object.freeze<AgentTrial>({
  inTrial: false,
  version: undefined,
  probationMs: 0,
  onReady: () => Promise.resolve('none'),
  onHealth: () => Promise.resolve('none'),
  report: () => undefined,
  commitNow: () => Promise.resolve('none'),
  rejectNow: () => Promise.resolve('none'),
});

/**
 * Called by the agent once at start (before READY). Reads the OTA state (read-only: the agent
 * runs unprivileged) and, if the current release is on trial, returns a handle that records
 * READY, health and the commit in the agent's report file. The root-side hooks act on that report:
 * a commit is finalised, a failure rolled back on the next start.
 */
export async function otaOnAgentStart(o: AgentTrialOptions = {}): Promise<AgentTrial> {
  const paths = otaPaths(o);
  const now = o.now ?? Date.now;
  let state;
  try {
    state = await loadState(paths);
  } catch (e) {
    if (e instanceof OtaError) return NO_TRIAL; // no readable OTA state: the agent runs as is
    throw e;
  }
  const t = state.trial;
  if (!t) return NO_TRIAL;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const startedMs = now();
  const deadlineMs =
    (t.firstStartAt ? Date.parse(t.firstStartAt) : startedMs) + t.deadlineSec * 1000;
  const probationMs = t.probationSec * 1000;
  const report: TrialReport = {
    version: t.version,
    startedAt: iso(startedMs),
    readyAt: null,
    healthySince: null,
    committedAt: null,
    failure: null,
  };
  await writeReport(paths, report);
  let verdict: TrialVerdict = 'trial';

  const fail = async (why: string): Promise<TrialVerdict> => {
    report.failure = why;
    verdict = 'rollback';
    await writeReport(paths, report);
    return verdict;
  };

  return {
    inTrial: true,
    version: t.version,
    probationMs,
    async onReady() {
      if (verdict !== 'trial') return verdict;
      report.readyAt = iso(now());
      await writeReport(paths, report);
      return verdict;
    },
    async onHealth(healthy, detail) {
      if (verdict !== 'trial') return verdict;
      const ms = now();
      if (!healthy) return fail(`health check failed${detail ? `: ${detail}` : ''}`);
      if (ms > deadlineMs) return fail(`probation timeout: not committed within ${t.deadlineSec}s`);
      if (!report.readyAt) return verdict; // health before READY does not count
      if (!report.healthySince) {
        report.healthySince = iso(ms);
        await writeReport(paths, report);
      }
      if (ms - Date.parse(report.healthySince) >= probationMs) {
        report.committedAt = iso(ms);
        verdict = 'committed';
        await writeReport(paths, report);
      }
      return verdict;
    },
    report: () => ({ ...report }),
    async commitNow() {
      if (verdict !== 'trial' || !report.readyAt) return verdict;
      report.committedAt = iso(now());
      verdict = 'committed';
      await writeReport(paths, report);
      return verdict;
    },
    async rejectNow(reason) {
      if (verdict !== 'trial') return verdict;
      return fail(reason);
    },
  };
}
