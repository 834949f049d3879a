import { access } from 'node:fs/promises';
import { loadState, otaPaths, OtaError, type OtaState } from '@edgeflow/ota';
import type { OtaTrial } from '../../ota/ota-trial.js';

/** The Updates page's data (docs/console.md). */
export interface OtaView {
  readonly now: number;
  readonly root: string;
  readonly managed: boolean;
  readonly error?: { code: string; message: string };
  readonly current: string | null;
  readonly previous: string | null;
  readonly trial: {
    version: string;
    from: string | null;
    installedAt: string;
    firstStartAt: string | null;
    probationSec: number;
    deadlineSec: number;
    starts: number;
  } | null;
  readonly history: OtaState['history'];
  readonly report: OtaTrial['report'] | null;
  readonly deadlineAt: number | null;
  readonly commitAt: number | null;
  readonly canCommit: boolean;
  readonly canRollback: boolean;
}

/**
 * Reads the OTA state with @edgeflow/ota's own reader (read-only: the state is root's, the
 * agent only reads it) and joins what the agent itself reported about its trial.
 */
export async function otaView(
  root: string,
  trial: OtaTrial | undefined,
  now: number,
): Promise<OtaView> {
  const paths = otaPaths({ root });
  let state: OtaState | undefined;
  let error: OtaView['error'];
  let managed = true;
  try {
    await access(paths.stateFile);
  } catch {
    managed = false;
  }
  if (managed) {
    try {
      state = await loadState(paths);
    } catch (err) {
      error =
        err instanceof OtaError
          ? { code: err.code, message: err.message }
          : { code: 'EDGEFLOW_INTERNAL', message: (err as Error).message };
    }
  }
  const t = state?.trial ?? null;
  const report =
    trial?.inTrial && trial.report?.version === t?.version ? (trial.report ?? null) : null;
  // As the agent's trial judges it: from the first start root counted, else from this start.
  const since = t?.firstStartAt ?? report?.startedAt;
  const deadlineAt = t && since ? Date.parse(since) + t.deadlineSec * 1000 : null;
  const commitAt =
    t && report?.healthySince ? Date.parse(report.healthySince) + t.probationSec * 1000 : null;
  const undecided = t !== null && report !== null && !report.committedAt && !report.failure;
  return {
    now,
    root,
    managed,
    ...(error ? { error } : {}),
    current: state?.current ?? null,
    previous: state?.previous ?? null,
    trial: t
      ? {
          version: t.version,
          from: t.from,
          installedAt: t.installedAt,
          firstStartAt: t.firstStartAt,
          probationSec: t.probationSec,
          deadlineSec: t.deadlineSec,
          starts: t.starts,
        }
      : null,
    history: state?.history.slice(-50) ?? [],
    report,
    deadlineAt,
    commitAt,
    canCommit: undecided && report?.readyAt !== null,
    canRollback: undecided,
  };
}

/** The Overview's line about updates. */
export function otaSummary(v: OtaView) {
  const last = v.history[v.history.length - 1];
  return {
    current: v.current,
    trial: v.trial ? { version: v.trial.version, deadlineAt: v.deadlineAt } : null,
    last: last ?? null,
    ...(v.error
      ? { error: `${v.error.code}: ${v.error.message}` }
      : !v.managed
        ? { error: `no OTA state under ${v.root}` }
        : {}),
  };
}
