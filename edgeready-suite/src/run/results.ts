import type { CheckRecord, Execution, RunState } from './types.js';

const KEEP = 60;

/** Adds one execution; keeps every failure, the first five and the most recent ones. */
export function recordExecution(state: RunState, id: string, e: Execution): void {
  const rec: CheckRecord = (state.checks[id] ??= { pass: 0, fail: 0, skip: 0, executions: [] });
  rec[e.status]++;
  rec.executions.push(e);
  if (rec.executions.length > KEEP) {
    const i = rec.executions.findIndex((x, j) => j >= 5 && x.status !== 'fail');
    if (i >= 0) rec.executions.splice(i, 1);
  }
}

/** Overall status of a check: any failure fails it; all skips skip it. */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'not-run';

export function checkStatus(rec: CheckRecord | undefined): CheckStatus {
  if (!rec || rec.pass + rec.fail + rec.skip === 0) return 'not-run';
  if (rec.fail > 0) return 'fail';
  if (rec.pass > 0) return 'pass';
  return 'skip';
}
