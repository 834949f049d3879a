import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { pidAlive } from '../agent/agent-process.js';
import { EvidenceLog } from '../evidence/chain.js';
import { EdgeReadyError } from '../errors.js';
import { bootId } from '../sample/sysfs.js';
import { SUITE_VERSION } from '../version.js';
import { loadCheckpoint, runPaths, saveCheckpoint } from './checkpoint.js';
import { report, runSegment } from './phases.js';
import { Runner, type RunIo, type RunOutcome } from './runner.js';
import type { RunOptions, RunState } from './types.js';

function newSegment(state: RunState): void {
  const index = state.segments.length;
  state.segments.push({
    index,
    startedAt: new Date().toISOString(),
    devicePrefix: `er${state.runId}s${index}`,
    keys: {},
    published: 0,
    acked: 0,
    errors: 0,
    backpressure: 0,
  });
}

/**
 * Runs a segment; any error that stops it (the agent does not start, the broker refuses the
 * load, a TPM or disk failure) ends the run with a report that names it, never a bare stack,
 * and never leaves the checkpoint `running`.
 */
async function guarded(r: Runner): Promise<RunOutcome> {
  try {
    return await runSegment(r);
  } catch (e) {
    const code = e instanceof EdgeReadyError ? e.code : 'EDGEFLOW_ER_INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    r.log.error({ event: 'run.failed', code, err: message }, 'run failed');
    r.state.status = 'failed';
    r.state.failure = { code, message };
    r.state.finishedAt = new Date().toISOString();
    const seg = r.state.segments.at(-1);
    if (seg && !seg.endedAt) {
      seg.endedAt = r.state.finishedAt;
      seg.end = r.load ? 'stalled' : 'cut';
    }
    await r.load?.stop(0).catch(() => undefined);
    r.http?.stop();
    try {
      await r.record({
        k: 'end',
        at: r.state.finishedAt,
        status: 'failed',
        code,
        detail: `${code}: ${message}`,
      });
      await r.anchor('final');
    } catch {
      /* the report still says why */
    }
    return report(r);
  }
}

/** Starts a new run in an empty (or new) output directory. */
export async function startRun(
  opts: RunOptions,
  io: RunIo,
  challenge: string | null = null,
): Promise<RunOutcome> {
  const paths = runPaths(opts.outDir);
  await mkdir(paths.stateDir, { recursive: true });
  const existing = await readdir(paths.stateDir);
  if (existing.includes('checkpoint.json'))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_OUT_DIR',
      `${opts.outDir} already holds a run: use \`edgeready resume ${opts.outDir}\` or another --out`,
    );
  const boot = await bootId();
  const now = new Date().toISOString();
  const state: RunState = {
    version: 2,
    runId: randomBytes(3).toString('hex'),
    suiteVersion: SUITE_VERSION,
    options: opts,
    status: 'running',
    createdAt: now,
    activeMs: 0,
    lastCheckpointAt: now,
    bootId: boot,
    pid: process.pid,
    startDone: false,
    lastPeriodicMs: 0,
    lastAnchorMs: 0,
    rounds: 0,
    segments: [],
    gaps: [],
    agent: {
      url: opts.agentUrl ?? '',
      mqttUrl: opts.mqttUrl ?? 'mqtt://127.0.0.1:1883',
      own: null,
      starts: 0,
      logFrom: now,
      unit: null,
      pid: null,
    },
    identity: null,
    enrolmentFile: null,
    latency: { counts: [], max: 0 },
    cacheLatency: { counts: [], max: 0 },
    http: {},
    throttleStart: null,
    sensorSeq: {},
  };
  await writeFile(paths.series, '');
  newSegment(state);
  const { log } = await EvidenceLog.open(paths.evidence);
  const run = {
    k: 'run' as const,
    runId: state.runId,
    suiteVersion: SUITE_VERSION,
    createdAt: now,
    options: opts,
    challenge,
  };
  await log.append(run);
  await saveCheckpoint(paths, state);
  return guarded(new Runner(state, io, boot, log, [run]));
}

/**
 * Continues a run after a crash, SIGKILL, power loss, reboot or Ctrl-C. The time between the
 * last checkpoint and now is recorded as a gap (cause from the boot id and the saved status);
 * the segment that was cut is judged with what its checkpoint knew.
 */
export async function resumeRun(outDir: string, io: RunIo): Promise<RunOutcome> {
  const paths = runPaths(outDir);
  const state = await loadCheckpoint(paths);
  const boot = await bootId();
  if (state.status === 'finished')
    throw new EdgeReadyError(
      'EDGEFLOW_ER_RUN_FINISHED',
      `${outDir}: the run finished at ${state.finishedAt ?? '?'}`,
    );
  if (state.pid !== process.pid && state.bootId === boot && state.status === 'running') {
    if (pidAlive(state.pid))
      throw new EdgeReadyError(
        'EDGEFLOW_ER_RUN_ACTIVE',
        `${outDir}: edgeready pid ${state.pid} is still running`,
      );
  }
  const { log, entries } = await EvidenceLog.open(paths.evidence);
  const recorded = entries.map((e) => e.record);
  // Active time after the last TPM anchor is not proven by the TPM: it does not count, and the
  // run goes on that much longer (ER-SYS-CONTINUITY holds every claimed second to the TPM clock).
  const anchored = Math.max(
    0,
    ...recorded
      .filter((r) => r.k === 'anchor' && r.response !== null)
      .map((r) => (r as { a: number }).a),
  );
  const unproven = Math.max(0, state.activeMs - anchored);
  state.activeMs = Math.min(state.activeMs, anchored);
  state.lastPeriodicMs = Math.min(state.lastPeriodicMs, state.activeMs);
  const from = state.lastCheckpointAt;
  const to = new Date().toISOString();
  const cause =
    state.bootId !== boot
      ? 'reboot'
      : state.status === 'interrupted' || state.status === 'failed'
        ? 'stopped'
        : 'crash';
  const gap = {
    from,
    to,
    seconds: (Date.parse(to) - Date.parse(from)) / 1000,
    cause,
    detail:
      (cause === 'reboot'
        ? `boot id changed (${state.bootId} -> ${boot})`
        : cause === 'stopped'
          ? `${state.status === 'failed' ? `failed (${state.failure?.code ?? '?'})` : 'stopped by the operator'}; resumed`
          : `edgeready pid ${state.pid} stopped without finishing (crash or SIGKILL)`) +
      (unproven > 0
        ? `; ${(unproven / 1000).toFixed(1)} s of active time after the last TPM anchor do not count`
        : ''),
  } as const;
  state.gaps.push(gap);
  const seg = state.segments.at(-1);
  if (seg && !seg.endedAt) {
    seg.endedAt = from;
    seg.end = 'cut';
  }
  state.status = 'running';
  delete state.failure;
  state.bootId = boot;
  state.pid = process.pid;
  delete state.finishedAt;
  newSegment(state);
  // A previous end record (stopped or failed) is followed by the gap: the chain tells both.
  await log.append({ k: 'gap', gap });
  recorded.push({ k: 'gap', gap });
  const runner = new Runner(state, io, boot, log, recorded);
  await saveCheckpoint(paths, state);
  runner.log.info({ event: 'run.resumed', gap }, 'run resumed');
  return guarded(runner);
}
