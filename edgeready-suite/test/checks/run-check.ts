// Runs a check as the runner does: collect, a JSON round trip (what the evidence chain keeps),
// then the judge.
import type { CheckContext, CheckImpl, JudgeInput, Outcome } from '../../src/checks/types.js';
import type { RunOptions } from '../../src/run/types.js';

export async function runCheck<R>(
  impl: CheckImpl<R>,
  ctx: CheckContext,
  extra: Partial<JudgeInput> = {},
): Promise<Outcome> {
  const raw = JSON.parse(JSON.stringify(await impl.collect(ctx))) as R;
  return judgeOnly(impl, raw, ctx.opts, { samples: ctx.series ?? [], ...extra });
}

/** The judge alone, on raw evidence a test writes (the negative cases). */
export function judgeOnly<R>(
  impl: CheckImpl<R>,
  raw: R,
  options: Partial<RunOptions>,
  extra: Partial<JudgeInput> = {},
): Outcome {
  return impl.judge({
    raw,
    options: options as RunOptions,
    phase: 'end',
    samples: [],
    anchors: [],
    gaps: [],
    ...extra,
  } as JudgeInput<R>);
}
