import { implementations } from './registry.js';
import { fail, type JudgeInput, type Outcome } from './types.js';

/**
 * Judges one execution of check `id`: the single entry point used both while the run records
 * an execution and when verify-report re-judges it. A collector that threw left
 * `{collectError}`; a judge that throws on its raw evidence fails the check.
 */
export function judgeExec(id: string, input: JudgeInput): Outcome {
  const impl = implementations[id];
  if (!impl) return fail(`no check ${id} in suite`);
  const raw = input.raw as { collectError?: unknown } | null;
  if (raw !== null && typeof raw === 'object' && typeof raw.collectError === 'string')
    return fail(`check raised ${raw.collectError}`);
  try {
    return impl.judge(input);
  } catch (e) {
    return fail(`the judge cannot read this evidence: ${(e as Error).message}`);
  }
}
