import { join } from 'node:path';
import { edgeflowRunner } from '../agent/edgeflow-cli.js';
import { probeServing, unitServes, whyNotServing } from '../agent/serving.js';
import { judgeScratchDrill, judgeSystemdDrill } from '../ota/drill-judge.js';
import type { DrillRaw, SystemdDrillRaw } from '../ota/drill-types.js';
import { scratchDrill } from '../ota/scratch-drill.js';
import { DEVICE_OTA_TOOL, systemdDrill, type DrillInput } from '../ota/systemd-drill.js';
import type { RunOptions } from '../run/types.js';
import { check, type CheckContext } from './types.js';

/** The drill bundles the operator gave (--ota-drill-key, or --ota-drill-bundle/--ota-drill-bad). */
export function drillInput(o: RunOptions): DrillInput | undefined {
  if (o.otaDrillKey) return { kind: 'key', keyFile: o.otaDrillKey };
  if (o.otaDrillBundle && o.otaDrillBad)
    return { kind: 'bundles', good: o.otaDrillBundle, bad: o.otaDrillBad };
  return undefined;
}

const DRILL_OPTIONS = '--ota-drill-key KEY, or --ota-drill-bundle GOOD --ota-drill-bad BAD';

/** The real drill was asked for and cannot run: a failure that says why (never a stand-in). */
function cannotDrill(ctx: CheckContext, input: DrillInput, why: string): SystemdDrillRaw {
  return {
    mode: 'systemd',
    unit: ctx.opts.journalUnit,
    url: ctx.state.agent.url,
    tool: DEVICE_OTA_TOOL,
    source: input.kind,
    probationSec: ctx.opts.otaDrillProbationSec ?? 30,
    startedAt: Date.now(),
    before: null,
    good: null,
    bad: null,
    after: null,
    history: [],
    journal: [],
    steps: [],
    cleanup: [],
    error: why,
  };
}

/**
 * Which drill runs: the real one when the agent under test is the main process of its systemd
 * unit and the operator gave drill bundles; else the scratch-root stand-in, saying why.
 */
async function collect(ctx: CheckContext): Promise<DrillRaw> {
  const input = drillInput(ctx.opts);
  const unit = ctx.opts.journalUnit;
  let notUnit: string | undefined;
  if (ctx.state.agent.own) notUnit = 'the suite started the agent itself (not systemd)';
  else {
    const p = await probeServing(unit, ctx.state.agent.url, () => ctx.agent.healthy());
    if (!unitServes(p)) notUnit = whyNotServing(p, ctx.state.agent.url);
  }
  if (notUnit !== undefined) {
    if (input)
      return cannotDrill(ctx, input, `the real drill needs the agent run by ${unit}: ${notUnit}`);
    return scratchDrill(
      ctx,
      `drill on a scratch root, the agent under test not updated: ${notUnit}`,
    );
  }
  if (!input)
    return scratchDrill(
      ctx,
      `drill on a scratch root, the agent under test not updated: ${unit} runs it, but no drill bundles were given (${DRILL_OPTIONS}; docs/ota.md "The EdgeReady OTA drill")`,
    );
  return systemdDrill({
    unit,
    url: ctx.state.agent.url,
    healthy: () => ctx.agent.healthy(),
    tool: edgeflowRunner(DEVICE_OTA_TOOL),
    toolPath: DEVICE_OTA_TOOL,
    board: (await ctx.board()).profile.id,
    workDir: join(ctx.paths.stateDir, `ota-drill-${ctx.state.rounds}`),
    input,
    probationSec: ctx.opts.otaDrillProbationSec ?? 30,
    rollbackLimitSec: ctx.opts.otaRollbackLimitSec,
  });
}

/**
 * ER-OTA-DRILL: under systemd, a good release commits and a failing one rolls back within the
 * limit, the agent serving from the right release afterwards; elsewhere the scratch-root
 * stand-in. It runs last in its round: it restarts the agent.
 */
export const otaDrillCheck = check<DrillRaw>({
  collect,
  judge: ({ raw, options }) =>
    raw.mode === 'systemd'
      ? judgeSystemdDrill(raw, options.otaRollbackLimitSec)
      : judgeScratchDrill(raw, options.otaRollbackLimitSec),
});
