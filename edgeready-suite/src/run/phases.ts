import { mkdir } from 'node:fs/promises';
import { EdgeReadyError } from '../errors.js';
import { HttpLoad } from '../load/http-load.js';
import { MqttLoad } from '../load/mqtt-load.js';
import { deriveErId } from '../report/er-id.js';
import { collectJournal, writeReports } from '../report/write.js';
import { readThrottle } from '../sample/sysfs.js';
import { SUITE_VERSION } from '../version.js';
import { ensureAgent, logMarker } from './agent-setup.js';
import type { Runner, RunOutcome } from './runner.js';

const TICK_MS = 1000;

/** Runs the QoS 2 and HTTP load for the segment, with samples, periodic rounds and anchors. */
export async function loadPhase(r: Runner): Promise<void> {
  const seg = r.state.segments.at(-1);
  if (!seg || !r.agent) return;
  const o = r.opts;
  r.load = new MqttLoad({
    url: r.state.agent.mqttUrl,
    devicePrefix: seg.devicePrefix,
    publishers: o.publishers,
    keysPerPublisher: o.keysPerPublisher,
    rate: o.rate,
    maxInflight: o.maxInflight,
    ...(o.mode === 'functional' ? { limit: Math.max(100, Math.round(o.rate * 10)) } : {}),
    ...(o.mqttUsername ? { username: o.mqttUsername } : {}),
    ...(o.mqttPasswordFile ? { passwordFile: o.mqttPasswordFile } : {}),
  });
  r.http = new HttpLoad(r.agent, `er${r.state.runId}`, 250, r.state.http);
  await r.load.start();
  r.http.start();
  r.log.info({ event: 'load.started', segment: seg.index, rate: o.rate }, 'load started');
  let lastTick = performance.now();
  let lastSample = 0;
  while (!r.stopRequested && r.state.activeMs < o.durationMs) {
    await new Promise((res) => setTimeout(res, TICK_MS));
    const now = performance.now();
    r.state.activeMs += now - lastTick;
    lastTick = now;
    if (r.state.activeMs - lastSample >= o.sampleMs) {
      lastSample = r.state.activeMs;
      await r.sample();
      await r.checkpoint();
    }
    if (o.mode === 'stress' && r.state.activeMs - r.state.lastAnchorMs >= r.anchorEveryMs) {
      r.state.lastAnchorMs = r.state.activeMs;
      await r.anchor('periodic');
    }
    const dueRound =
      o.mode === 'stress' &&
      r.state.activeMs - r.state.lastPeriodicMs >= o.intervalMs &&
      o.durationMs - r.state.activeMs > o.intervalMs / 2;
    if (dueRound && !r.roundRunning) {
      r.state.lastPeriodicMs = r.state.activeMs;
      r.roundRunning = r.round('periodic').finally(() => (r.roundRunning = undefined));
    }
    r.progress('load');
    if (o.mode === 'functional' && r.load.done && r.load.inflight === 0) break;
  }
  await r.roundRunning;
  r.http.stop();
  const { drained } = await r.load.stop();
  await r.sample(false); // the load is drained: this window's rate is not a throughput
  await r.checkpoint();
  seg.endedAt = new Date().toISOString();
  seg.end = drained ? 'drained' : 'stalled';
  await r.anchor('load-end');
  r.log.info({ event: 'load.stopped', drained, acked: r.load.ackedTotal }, 'load stopped');
}

/** The end round, the end record, the final anchor, the report. */
export async function finish(r: Runner): Promise<RunOutcome> {
  if (r.opts.agentUrl) await collectJournal(r.state, r.paths);
  await r.round('end');
  const interrupted = r.stopRequested;
  r.state.status = interrupted ? 'interrupted' : 'finished';
  r.state.finishedAt = new Date().toISOString();
  await r.record({
    k: 'end',
    at: r.state.finishedAt,
    status: interrupted ? 'interrupted' : 'finished',
    detail: interrupted ? 'stopped by the operator' : 'the run covered its duration',
  });
  await r.anchor('final');
  await r.checkpoint();
  return report(r);
}

/** Writes the report files from the chain; stops the suite's own agent. */
export async function report(r: Runner): Promise<RunOutcome> {
  await r.chain.close();
  const out = await writeReports({ state: r.state, paths: r.paths, view: r.view, agent: r.agent });
  await r.stopOwnAgent();
  await r.checkpoint();
  if (r.io.stderr.isTTY && !r.io.jsonProgress) r.io.stderr.write('\n');
  return { state: r.state, verdict: out.verdict, files: out.files };
}

/** Reads the agent's TPM identity (waiting for its provisioning, within bounds). */
export async function identity(r: Runner): Promise<void> {
  if (r.state.identity?.ekPublic || !r.agent) return;
  const boardId = (await r.board()).profile.id;
  let ekPublic: string | null = null;
  let why: string | undefined;
  // The agent provisions its TPM keys in the background and answers 503 meanwhile (RSA key
  // generation takes seconds on a discrete TPM): wait for it, within bounds.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      ekPublic = (await r.agent.json<{ ekPublic: string }>('/v1/attestation/identity')).ekPublic;
      why = undefined;
      break;
    } catch (e) {
      why = (e as Error).message;
      if (!why.includes('provision') || Date.now() > deadline || r.stopRequested) break;
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  r.state.identity = {
    boardId,
    ekPublic,
    erId: ekPublic ? deriveErId(ekPublic, boardId, SUITE_VERSION) : null,
    ...(why ? { tpmUnavailable: why } : {}),
  };
}

/** A segment: agent, identity, segment record and anchor, start checks, load, end. */
export async function runSegment(r: Runner): Promise<RunOutcome> {
  await mkdir(r.paths.stateDir, { recursive: true });
  const { client } = await ensureAgent(r.state, r.paths, r.boot, logMarker(r.paths));
  r.agent = client;
  await identity(r);
  await r.record({
    k: 'segment',
    seg: r.seg,
    at: new Date().toISOString(),
    bootId: r.boot,
    agent: {
      url: r.state.agent.url,
      own: r.state.agent.own !== null,
      pid: r.state.agent.own?.pid ?? r.state.agent.pid,
    },
  });
  // The first anchor dates the run's start and binds the challenge (in the run record) before
  // any evidence exists; each resume anchors its segment's start.
  await r.anchor(r.seg === 0 ? 'first' : 'segment');
  // An agent that refuses the suite's quotes cannot have its run proven: say so now, not after
  // 72 hours of unanchored evidence.
  const refused = r.view.anchorRecords.at(-1)?.failed;
  if (refused !== undefined && /HTTP 40[13]\b/.test(refused))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_AGENT_TOKEN',
      `the agent refuses the suite's TPM quotes (${refused.slice(0, 300)}): pass --agent-token-file with a token granted in its attestation.access.apiTokens`,
    );
  r.state.lastAnchorMs = r.state.activeMs;
  await r.checkpoint();
  if (!r.state.startDone) {
    r.progress('start checks');
    const b = await r.board();
    r.state.throttleStart = await readThrottle(r.opts.root);
    r.log.info({ event: 'run.started', board: b.profile.id, options: r.opts }, 'run started');
    await r.round('start');
    r.state.startDone = true;
    await r.checkpoint();
  }
  if (!r.stopRequested) await loadPhase(r);
  return finish(r);
}
