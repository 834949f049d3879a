import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { UnitState } from '../agent/systemd-unit.js';
import { unitState } from '../agent/systemd-unit.js';
import { check, fail, pass, type Outcome } from './types.js';

interface AgentLogRaw {
  /** `own`: the agent the suite started wrote agent.log; `journal`: journalctl -u <unit>. */
  readonly source: 'own' | 'journal';
  /** The prefix of the archived agent.log this execution judged. */
  readonly log: { readonly bytes: number; readonly sha256: string } | { readonly error: string };
  /** Agent starts the log must show: the suite's own starts, or one per reboot gap. */
  readonly expectedStarts: number;
  /** systemd's view of the unit at the segment start and now (journal source). */
  readonly unitAtStart: UnitState | { error: string } | null;
  readonly unitNow: UnitState | { error: string } | null;
}

const HW_EVENTS = new Set(['hal.problem']);

/** What the log says: errors, hardware warnings, starts. */
export function scanLog(text: string): {
  lines: number;
  agentRecords: number;
  starts: number;
  errors: string[];
  hardware: string[];
} {
  const out = {
    lines: 0,
    agentRecords: 0,
    starts: 0,
    errors: [] as string[],
    hardware: [] as string[],
  };
  for (const l of text.split('\n')) {
    if (l === '') continue;
    out.lines++;
    let rec: { level?: unknown; event?: unknown; code?: unknown };
    try {
      rec = JSON.parse(l) as typeof rec;
    } catch {
      // journalctl -o cat and the suite's own markers are plain text
      if (/\b(error|fatal)\b/i.test(l) && !l.startsWith('# edgeready'))
        out.errors.push(l.slice(0, 300));
      continue;
    }
    out.agentRecords++;
    if (rec.event === 'agent.listening') out.starts++;
    const lvl = rec.level;
    if ((typeof lvl === 'number' && lvl >= 50) || lvl === 'error' || lvl === 'fatal')
      out.errors.push(l.slice(0, 300));
    else if (
      (typeof rec.event === 'string' && HW_EVENTS.has(rec.event)) ||
      (typeof rec.code === 'string' && rec.code.startsWith('EDGEFLOW_HAL_'))
    )
      out.hardware.push(l.slice(0, 300));
  }
  return out;
}

function restarted(a: AgentLogRaw['unitAtStart'], b: AgentLogRaw['unitNow']): string | undefined {
  if (!a || !b || 'error' in a || 'error' in b) return undefined;
  if (b.nRestarts > a.nRestarts)
    return `systemd restarted ${a.unit} ${b.nRestarts - a.nRestarts} time(s) during the run (NRestarts)`;
  if (a.invocationId !== b.invocationId)
    return `${a.unit} was started again during the run (InvocationID ${a.invocationId} -> ${b.invocationId})`;
  return undefined;
}

/** ER-SYS-AGENT-LOG: the log of the agent under test, from where it really logs. */
export const agentLogCheck = check<AgentLogRaw>({
  collect: async (ctx) => {
    const journal = ctx.state.agent.own === null;
    let log: AgentLogRaw['log'];
    try {
      const buf = await readFile(ctx.paths.agentLog);
      log = { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
    } catch (e) {
      log = { error: (e as Error).message };
    }
    return {
      source: journal ? 'journal' : 'own',
      log,
      expectedStarts: journal
        ? ctx.state.gaps.filter((g) => g.cause === 'reboot').length
        : ctx.state.agent.starts,
      unitAtStart: journal ? ctx.state.agent.unit : null,
      unitNow: journal ? unitState(ctx.opts.journalUnit) : null,
    };
  },
  judge: ({ raw, agentLog }): Outcome => {
    if ('error' in raw.log) return fail(`no agent log was collected: ${raw.log.error}`);
    const buf = agentLog?.subarray(0, raw.log.bytes);
    if (!buf || buf.length !== raw.log.bytes)
      return fail(`agent.log is shorter than the ${raw.log.bytes} bytes judged`);
    if (createHash('sha256').update(buf).digest('hex') !== raw.log.sha256)
      return fail('agent.log differs from the log that was judged');
    const s = scanLog(buf.toString('utf8'));
    const ev = {
      source: raw.source,
      lines: s.lines,
      agentRecords: s.agentRecords,
      starts: s.starts,
      expectedStarts: raw.expectedStarts,
      errors: s.errors.slice(0, 20),
      errorCount: s.errors.length,
      hardwareProblems: s.hardware.slice(0, 20),
      hardwareProblemCount: s.hardware.length,
      unitAtStart: raw.unitAtStart,
      unitNow: raw.unitNow,
    };
    if (s.agentRecords === 0) {
      const why = s.lines > 0 ? buf.toString('utf8').split('\n')[0]?.slice(0, 200) : 'empty';
      return fail(`no agent log was collected (${raw.source}: ${why})`, ev);
    }
    if (s.errors.length > 0) return fail(`${s.errors.length} error entr(ies): ${s.errors[0]}`, ev);
    if (s.hardware.length > 0)
      return fail(`${s.hardware.length} hardware problem(s) logged: ${s.hardware[0]}`, ev);
    const r = restarted(raw.unitAtStart, raw.unitNow);
    if (r) return fail(r, ev);
    if (s.starts !== raw.expectedStarts)
      return fail(
        `the log shows ${s.starts} agent start(s), expected ${raw.expectedStarts} (${raw.source === 'own' ? 'starts by the suite' : 'one per reboot'})`,
        ev,
      );
    return pass(
      `${s.agentRecords} agent log records (${raw.source}), no error or hardware problem, ${s.starts} start(s) as expected`,
      ev,
    );
  },
});
