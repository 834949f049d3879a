import type { OtaDeps } from './deps.js';
import { OtaError } from './errors.js';
import { withLock } from './layout.js';
import type { OtaPaths } from './paths.js';
import { readReport } from './report.js';
import type { TrialReport } from './report.js';
import { loadState, record, saveState } from './state.js';
import type { OtaState } from './state.js';
import { commitTrial, reconcileReport, recover, rollbackTo } from './transitions.js';

/** What a root-side trial hook decided. */
export type TrialDecision =
  | { readonly action: 'none'; readonly current: string | null }
  | { readonly action: 'trial-started' | 'trial-continues'; readonly version: string }
  | { readonly action: 'committed'; readonly version: string }
  | {
      readonly action: 'rolled-back';
      readonly from: string;
      readonly to: string;
      readonly reason: string;
    };

function expired(s: OtaState, now: Date): boolean {
  const t = s.trial;
  if (!t?.firstStartAt) return false;
  return now.getTime() - Date.parse(t.firstStartAt) > t.deadlineSec * 1000;
}

function describeStop(s: OtaState): string {
  const st = s.trial?.lastStop;
  if (!st) return 'restarted during trial (no stop recorded: killed or power loss)';
  return `restarted during trial after service result "${st.result}" (${st.exitCode} ${st.exitStatus})`;
}

async function decide(
  paths: OtaPaths,
  s: OtaState,
  deps: OtaDeps,
  report: TrialReport | undefined,
): Promise<TrialDecision | undefined> {
  const t = s.trial;
  if (!t) return { action: 'none', current: s.current };
  const mine = report?.version === t.version ? report : undefined;
  if (mine?.failure)
    return rolledBack(await rollbackTo(paths, s, mine.failure, deps), t.version, mine.failure);
  if (expired(s, deps.now())) {
    const reason = `probation timeout: not committed within ${t.deadlineSec}s`;
    return rolledBack(await rollbackTo(paths, s, reason, deps), t.version, reason);
  }
  return undefined;
}

function rolledBack(s: OtaState, from: string, reason: string): TrialDecision {
  return { action: 'rolled-back', from, to: s.current ?? '', reason };
}

/**
 * `ExecStartPre=+` hook (root, before every start of the agent). The first start of a trial is
 * counted; any later start of an uncommitted trial means the trial release crashed, hung (watchdog),
 * never became READY (start timeout) or was killed, so it is rolled back before ExecStart runs,
 * and ExecStart then starts the previous release. A committed release is never touched.
 */
export async function prestart(paths: OtaPaths, deps: OtaDeps): Promise<TrialDecision> {
  return withLock(paths, async () => {
    let s = await recover(paths, deps);
    s = await reconcileReport(paths, s, deps);
    const d = await decide(paths, s, deps, await readReport(paths, deps.log));
    if (d) return d;
    const t = s.trial;
    if (!t) return { action: 'none', current: s.current };
    if (t.starts > 0) {
      const reason = describeStop(s);
      return rolledBack(await rollbackTo(paths, s, reason, deps), t.version, reason);
    }
    t.starts = 1;
    t.firstStartAt = deps.now().toISOString();
    record(s, { at: t.firstStartAt, event: 'trial-started', version: t.version, from: t.from });
    await saveState(paths, s);
    deps.log.info(
      { event: 'ota.trial-started', version: t.version, probationSec: t.probationSec },
      `trial of ${t.version} started`,
    );
    return { action: 'trial-started', version: t.version };
  });
}

/** Service result as systemd passes it to ExecStopPost (SERVICE_RESULT, EXIT_CODE, EXIT_STATUS). */
export interface StopInfo {
  readonly result: string;
  readonly exitCode: string;
  readonly exitStatus: string;
}

/** `ExecStopPost=+` hook: remembers why a trial process stopped, for the rollback reason. */
export async function poststop(
  paths: OtaPaths,
  stop: StopInfo,
  deps: OtaDeps,
): Promise<TrialDecision> {
  return withLock(paths, async () => {
    let s = await recover(paths, deps);
    s = await reconcileReport(paths, s, deps);
    const t = s.trial;
    if (!t) return { action: 'none', current: s.current };
    t.lastStop = { ...stop, at: deps.now().toISOString() };
    await saveState(paths, s);
    deps.log.warn(
      { event: 'ota.trial-stopped', version: t.version, ...stop },
      `trial ${t.version} stopped: ${stop.result}`,
    );
    return { action: 'trial-continues', version: t.version };
  });
}

/**
 * Periodic / OnFailure check (root): finalises an agent-reported commit, rolls back a trial that
 * reported a failure or passed its deadline; with `serviceFailed` (OnFailure=, systemd gave up
 * restarting) an uncommitted trial is rolled back at once. Restarts the agent after a rollback.
 */
export async function check(
  paths: OtaPaths,
  deps: OtaDeps,
  serviceFailed = false,
): Promise<TrialDecision> {
  const d = await withLock(paths, async (): Promise<TrialDecision> => {
    let s = await recover(paths, deps);
    const before = s.trial?.version;
    s = await reconcileReport(paths, s, deps);
    if (before && !s.trial) return { action: 'committed', version: before };
    const r = await decide(paths, s, deps, await readReport(paths, deps.log));
    if (r) return r;
    const t = s.trial;
    if (t && serviceFailed) {
      const reason = `service failed during trial (start limit hit): ${describeStop(s)}`;
      return rolledBack(await rollbackTo(paths, s, reason, deps), t.version, reason);
    }
    return t
      ? { action: 'trial-continues', version: t.version }
      : { action: 'none', current: s.current };
  });
  if (d.action === 'rolled-back') await deps.restartService();
  return d;
}

/** Manual `edgeflow ota commit`. */
export async function commitNow(paths: OtaPaths, deps: OtaDeps): Promise<TrialDecision> {
  return withLock(paths, async () => {
    const s = await recover(paths, deps);
    const v = s.trial?.version;
    if (!v) throw new OtaError('EDGEFLOW_OTA_NO_TRIAL', 'no release is on trial');
    await commitTrial(paths, s, 'committed by hand', deps);
    return { action: 'committed', version: v };
  });
}

/** Manual `edgeflow ota rollback` (works on a trial or on a committed release with a previous). */
export async function rollbackNow(
  paths: OtaPaths,
  reason: string,
  deps: OtaDeps,
  restart: boolean,
): Promise<TrialDecision> {
  const d = await withLock(paths, async () => {
    const s = await recover(paths, deps);
    const from = s.current ?? '';
    const after = await rollbackTo(paths, s, reason, deps);
    return rolledBack(after, from, reason);
  });
  if (restart) await deps.restartService();
  return d;
}

/** State for `edgeflow ota status` (reconciled when the caller may write, as-is otherwise). */
export async function status(
  paths: OtaPaths,
  deps: OtaDeps,
): Promise<{ state: OtaState; report: TrialReport | undefined }> {
  let s: OtaState;
  try {
    s = await withLock(paths, async () => reconcileReport(paths, await recover(paths, deps), deps));
  } catch (e) {
    if (e instanceof OtaError && e.code !== 'EDGEFLOW_OTA_IO' && e.code !== 'EDGEFLOW_OTA_LOCKED')
      throw e;
    s = await loadState(paths);
  }
  return { state: s, report: await readReport(paths, deps.log) };
}
