import type { ExecRecord, ExecStatus } from '../evidence/records.js';
import type { Execution } from '../run/types.js';

/** Overall status of a check over its executions. */
export type CheckStatus = ExecStatus | 'not-run';

/** Verdict of a run. `pass (simulated)`: every check passed, some against a stand-in. */
export type RunVerdict = 'pass' | 'pass (simulated)' | 'fail' | 'incomplete';

/** One check summarised from its executions in the evidence chain. */
export interface CheckAggregate {
  readonly status: CheckStatus;
  readonly counts: { pass: number; fail: number; skip: number; simulated: number };
  /** The execution shown: the last failure, else the most recent one. */
  readonly shown: ExecRecord | undefined;
  /** Kept for the report: every failure, the first five and the most recent ones (bounded). */
  readonly executions: Execution[];
}

const KEEP = 60;

function toExecution(e: ExecRecord): Execution {
  return {
    phase: e.phase,
    at: e.at,
    activeMs: e.a,
    status: e.status,
    detail: e.detail,
    evidence: e.evidence,
  };
}

/**
 * Any failure fails a check; else any stand-in makes it `simulated`; else any pass passes it;
 * all skips skip it.
 */
export function aggregate(execs: readonly ExecRecord[]): CheckAggregate {
  const counts = { pass: 0, fail: 0, skip: 0, simulated: 0 };
  for (const e of execs) counts[e.status]++;
  const status: CheckStatus =
    execs.length === 0
      ? 'not-run'
      : counts.fail > 0
        ? 'fail'
        : counts.simulated > 0
          ? 'simulated'
          : counts.pass > 0
            ? 'pass'
            : 'skip';
  const kept: ExecRecord[] = [];
  execs.forEach((e, i) => {
    kept.push(e);
    if (kept.length > KEEP) {
      const drop = kept.findIndex((x, j) => j >= 5 && x.status !== 'fail' && x !== execs[i]);
      if (drop >= 0) kept.splice(drop, 1);
    }
  });
  const shown = execs.filter((e) => e.status === 'fail').at(-1) ?? execs.at(-1);
  return { status, counts, shown, executions: kept.map(toExecution) };
}

/**
 * The run's verdict: a start-up failure or any failed check fails it; a stopped run is
 * incomplete; a check judged against a stand-in caps it at `pass (simulated)`.
 */
export function verdictOf(
  statuses: readonly CheckStatus[],
  partial: boolean,
  failed: boolean,
): RunVerdict {
  if (failed || statuses.includes('fail')) return 'fail';
  if (partial) return 'incomplete';
  if (statuses.includes('simulated')) return 'pass (simulated)';
  return 'pass';
}
