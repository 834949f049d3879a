import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { detectBoard, type DetectedBoard } from '@edgeflow/hal';
import { pino, type Logger } from 'pino';
import type { AgentClient, Metrics } from '../agent/agent-http.js';
import { stopAgent } from '../agent/agent-process.js';
import { edgeflowRunner, otaRunner, type EdgeflowRunner } from '../agent/edgeflow-cli.js';
import { catalog } from '../catalog/catalog.js';
import type { Phase } from '../catalog/types.js';
import { DATA_ONLY, implementations } from '../checks/registry.js';
import type { CheckContext } from '../checks/types.js';
import { EdgeReadyError } from '../errors.js';
import { LatencyHistogram, quantile } from '../load/histogram.js';
import { HttpLoad } from '../load/http-load.js';
import { MqttLoad } from '../load/mqtt-load.js';
import { deriveErId } from '../report/er-id.js';
import { collectJournal, writeReports } from '../report/write.js';
import type { Sample } from '../sample/series.js';
import { bootId, diskUsage, readCpufreq, readThermal, readThrottle } from '../sample/sysfs.js';
import { SUITE_VERSION } from '../version.js';
import { ensureAgent, logMarker } from './agent-setup.js';
import { loadCheckpoint, runPaths, saveCheckpoint, type RunPaths } from './checkpoint.js';
import { progressLine, tally, type Progress } from './progress.js';
import { recordExecution } from './results.js';
import type { RunOptions, RunState } from './types.js';

/** Where progress goes and how the run can be stopped. */
export interface RunIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly jsonProgress: boolean;
  /** Resolves when the operator asks to stop (Ctrl-C / SIGTERM). */
  readonly stopSignal: Promise<void>;
}

/** How a run ended. */
export interface RunOutcome {
  readonly state: RunState;
  readonly verdict: 'pass' | 'fail' | 'incomplete';
  readonly files: readonly string[];
}

const TICK_MS = 1000;

class Runner {
  readonly paths: RunPaths;
  readonly log: Logger;
  readonly edgeflow: EdgeflowRunner;
  readonly ota: EdgeflowRunner;
  series: Sample[] = [];
  load: MqttLoad | undefined;
  http: HttpLoad | undefined;
  agent!: AgentClient;
  boardCache: Promise<DetectedBoard> | undefined;
  stopRequested = false;
  roundRunning: Promise<void> | undefined;
  lat: LatencyHistogram;
  cacheLat: LatencyHistogram;
  lastIngest: number | undefined;
  lastSampleAt = performance.now();
  last: Partial<Sample> = {};

  constructor(
    readonly state: RunState,
    readonly io: RunIo,
    readonly boot: string,
  ) {
    this.paths = runPaths(state.options.outDir);
    this.log = pino(
      { base: { component: 'edgeready', runId: state.runId } },
      pino.destination({ dest: this.paths.suiteLog, append: true, sync: true }),
    );
    this.edgeflow = edgeflowRunner(state.options.edgeflowCli);
    this.ota = otaRunner(this.edgeflow);
    this.lat = new LatencyHistogram(state.latency.counts, state.latency.max);
    this.cacheLat = new LatencyHistogram(state.cacheLatency.counts, state.cacheLatency.max);
    void io.stopSignal.then(() => {
      this.stopRequested = true;
      this.log.info(
        { event: 'run.stop-requested' },
        'stop requested: finishing with a partial report',
      );
    });
  }

  get opts(): RunOptions {
    return this.state.options;
  }

  board(): Promise<DetectedBoard> {
    this.boardCache ??= detectBoard({ root: this.opts.root, board: this.opts.board });
    return this.boardCache;
  }

  ctx(phase: Phase): CheckContext {
    return {
      opts: this.opts,
      state: this.state,
      paths: this.paths,
      phase,
      agent: this.agent,
      edgeflow: this.edgeflow,
      ota: this.ota,
      series: this.series,
      load: this.load,
      board: () => this.board(),
      interrupted: this.stopRequested,
    };
  }

  async checkpoint(): Promise<void> {
    const seg = this.state.segments.at(-1);
    if (seg && this.load && !seg.endedAt) {
      seg.keys = structuredClone(this.load.keys);
      seg.published = this.load.sentTotal;
      seg.acked = this.load.ackedTotal;
      seg.errors = this.load.errors;
      seg.backpressure = this.load.backpressure;
    }
    this.state.latency = this.lat.toJSON();
    this.state.cacheLatency = this.cacheLat.toJSON();
    if (this.http) this.state.http = this.http.routes;
    await saveCheckpoint(this.paths, this.state);
  }

  async round(phase: Phase): Promise<void> {
    const ids = catalog
      .filter((c) => c.phases.includes(phase))
      .filter(() => this.opts.mode === 'stress' || phase !== 'periodic')
      .filter((c) => !(phase === 'end' && this.stopRequested && !DATA_ONLY.has(c.id)))
      .map((c) => c.id);
    this.state.rounds++;
    for (const id of ids) {
      const impl = implementations[id];
      if (!impl) continue;
      const ctx = this.ctx(phase);
      let out;
      try {
        out = await impl(ctx);
      } catch (e) {
        out = {
          status: 'fail' as const,
          detail: `check raised ${e instanceof EdgeReadyError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`,
          evidence: {},
        };
      }
      recordExecution(this.state, id, {
        phase,
        at: new Date().toISOString(),
        activeMs: Math.round(this.state.activeMs),
        ...out,
      });
      this.log.info(
        { event: 'check', id, phase, status: out.status },
        `${id}: ${out.status} ${out.detail}`,
      );
    }
    await this.checkpoint();
  }

  async sample(loadRunning = true): Promise<void> {
    const now = performance.now();
    const dt = Math.max(0.001, (now - this.lastSampleAt) / 1000);
    this.lastSampleAt = now;
    const w = this.load?.takeWindow() ?? { latencies: [], acked: 0 };
    for (const ms of w.latencies) this.lat.record(ms);
    const cache = this.http?.takeCacheLatencies() ?? [];
    for (const ms of cache) this.cacheLat.record(ms);
    let m: Metrics | undefined;
    try {
      m = await this.agent.metrics();
    } catch {
      /* a failed scrape leaves gaps in the series; ER-SYS-HTTP counts failures */
    }
    const ingest = m?.get('edgeflow_ingest_messages_total{source="mqtt"}');
    const ingestRate =
      ingest !== undefined && this.lastIngest !== undefined
        ? Math.max(0, (ingest - this.lastIngest) / dt)
        : undefined;
    if (ingest !== undefined) this.lastIngest = ingest;
    const zones = await readThermal(this.opts.root);
    const freq = await readCpufreq(this.opts.root);
    const disk = await diskUsage(this.opts.dataDir);
    const opt = (k: string, v: number | undefined): Record<string, number> =>
      v === undefined || !Number.isFinite(v) ? {} : { [k]: v };
    const s: Sample = {
      t: Date.now(),
      a: Math.round(this.state.activeMs),
      seg: this.state.segments.length - 1,
      ...(this.load && loadRunning ? { rate: w.acked / dt, inflight: this.load.inflight } : {}),
      ...opt('ingestRate', ingestRate),
      ...opt('p99', quantile(w.latencies, 0.99)),
      ...opt('cacheP99', quantile(cache, 0.99)),
      ...opt('rss', m?.get('process_resident_memory_bytes')),
      ...opt('fds', m?.get('process_open_fds')),
      ...opt('lagP99', (m?.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000),
      ...opt('tempC', zones.length ? Math.max(...zones.map((z) => z.tempC)) : undefined),
      ...opt('cpuMHz', freq.curMHz.length ? Math.max(...freq.curMHz) : undefined),
      diskBytes: disk.dirBytes,
      ...opt('fsUsed', disk.fsUsedBytes),
    };
    this.series.push(s);
    this.last = s;
    await appendFile(this.paths.series, `${JSON.stringify(s)}\n`);
  }

  progress(phase: string): void {
    const remaining = Math.max(0, this.opts.durationMs - this.state.activeMs);
    const p: Progress = {
      type: 'progress',
      runId: this.state.runId,
      segment: this.state.segments.length - 1,
      elapsedMs: Math.round(this.state.activeMs),
      remainingMs: Math.round(remaining),
      percent: Math.min(100, (100 * this.state.activeMs) / this.opts.durationMs),
      rate: this.last.rate ?? null,
      p99Ms: this.last.p99 ?? null,
      rssBytes: this.last.rss ?? null,
      fds: this.last.fds ?? null,
      tempC: this.last.tempC ?? null,
      acked: this.load?.ackedTotal ?? 0,
      checks: tally(this.state),
      phase,
    };
    if (this.io.jsonProgress) this.io.stdout.write(`${JSON.stringify(p)}\n`);
    else if (this.io.stderr.isTTY) this.io.stderr.write(`\r\x1b[K${progressLine(p)}`);
    else if (Math.round(this.state.activeMs / 1000) % 10 === 0)
      this.io.stderr.write(`${progressLine(p)}\n`);
  }

  async loadPhase(): Promise<void> {
    const seg = this.state.segments.at(-1);
    if (!seg) return;
    const o = this.opts;
    this.load = new MqttLoad({
      url: this.state.agent.mqttUrl,
      devicePrefix: seg.devicePrefix,
      publishers: o.publishers,
      keysPerPublisher: o.keysPerPublisher,
      rate: o.rate,
      maxInflight: o.maxInflight,
      ...(o.mode === 'functional' ? { limit: Math.max(100, Math.round(o.rate * 10)) } : {}),
    });
    this.http = new HttpLoad(this.agent, `er${this.state.runId}`, 250, this.state.http);
    await this.load.start();
    this.http.start();
    this.log.info({ event: 'load.started', segment: seg.index, rate: o.rate }, 'load started');
    let lastTick = performance.now();
    let lastSample = 0;
    while (!this.stopRequested && this.state.activeMs < o.durationMs) {
      await new Promise((r) => setTimeout(r, TICK_MS));
      const now = performance.now();
      this.state.activeMs += now - lastTick;
      lastTick = now;
      if (this.state.activeMs - lastSample >= o.sampleMs) {
        lastSample = this.state.activeMs;
        await this.sample();
        await this.checkpoint();
      }
      const dueRound =
        o.mode === 'stress' &&
        this.state.activeMs - this.state.lastPeriodicMs >= o.intervalMs &&
        o.durationMs - this.state.activeMs > o.intervalMs / 2;
      if (dueRound && !this.roundRunning) {
        this.state.lastPeriodicMs = this.state.activeMs;
        this.roundRunning = this.round('periodic').finally(() => (this.roundRunning = undefined));
      }
      this.progress('load');
      if (o.mode === 'functional' && this.load.done && this.load.inflight === 0) break;
    }
    await this.roundRunning;
    this.http.stop();
    const { drained } = await this.load.stop();
    await this.sample(false); // the load is drained: this window's rate is not a throughput

    await this.checkpoint();
    seg.endedAt = new Date().toISOString();
    seg.endedCleanly = drained;
    this.log.info({ event: 'load.stopped', drained, acked: this.load.ackedTotal }, 'load stopped');
  }

  async finish(): Promise<RunOutcome> {
    if (this.opts.agentUrl) await collectJournal(this.state, this.paths);
    await this.round('end');
    const interrupted = this.stopRequested;
    this.state.status = interrupted ? 'interrupted' : 'finished';
    this.state.finishedAt = new Date().toISOString();
    await this.checkpoint();
    const out = await writeReports({
      state: this.state,
      paths: this.paths,
      series: this.series,
      agent: this.agent,
      partial: interrupted,
    });
    if (this.state.agent.own) {
      const how = await stopAgent(this.state.agent.own.pid);
      this.log.info({ event: 'agent.stopped', how }, `agent ${how}`);
    }
    await this.checkpoint();
    if (this.io.stderr.isTTY && !this.io.jsonProgress) this.io.stderr.write('\n');
    return { state: this.state, verdict: out.verdict, files: out.files };
  }

  async identity(): Promise<void> {
    if (this.state.identity?.ekPublic) return;
    const boardId = (await this.board()).profile.id;
    let ekPublic: string | null = null;
    let why: string | undefined;
    // The agent provisions its TPM keys in the background and answers 503 meanwhile (RSA key
    // generation takes seconds on a discrete TPM): wait for it, within bounds.
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        ekPublic = (await this.agent.json<{ ekPublic: string }>('/v1/attestation/identity'))
          .ekPublic;
        why = undefined;
        break;
      } catch (e) {
        why = (e as Error).message;
        if (!why.includes('provision') || Date.now() > deadline || this.stopRequested) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.state.identity = {
      boardId,
      ekPublic,
      erId: ekPublic ? deriveErId(ekPublic, boardId, SUITE_VERSION) : null,
      ...(why ? { tpmUnavailable: why } : {}),
    };
  }

  async main(): Promise<RunOutcome> {
    const { client } = await ensureAgent(this.state, this.paths, this.boot, logMarker(this.paths));
    this.agent = client;
    await this.identity();
    await this.checkpoint();
    if (!this.state.startDone) {
      this.progress('start checks');
      const b = await this.board();
      this.state.throttleStart = await readThrottle(this.opts.root);
      this.log.info(
        { event: 'run.started', board: b.profile.id, options: this.opts },
        'run started',
      );
      await this.round('start');
      this.state.startDone = true;
      await this.checkpoint();
    }
    if (!this.stopRequested) await this.loadPhase();
    return this.finish();
  }
}

function newSegment(state: RunState): void {
  const index = state.segments.length;
  state.segments.push({
    index,
    startedAt: new Date().toISOString(),
    endedCleanly: false,
    devicePrefix: `er${state.runId}s${index}`,
    keys: {},
    published: 0,
    acked: 0,
    errors: 0,
    backpressure: 0,
  });
}

/** Starts a new run in an empty (or new) output directory. */
export async function startRun(opts: RunOptions, io: RunIo): Promise<RunOutcome> {
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
    version: 1,
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
    rounds: 0,
    segments: [],
    gaps: [],
    agent: {
      url: opts.agentUrl ?? '',
      mqttUrl: opts.mqttUrl ?? 'mqtt://127.0.0.1:1883',
      own: null,
      starts: 0,
      logFrom: now,
    },
    identity: null,
    enrolmentFile: null,
    latency: { counts: [], max: 0 },
    cacheLatency: { counts: [], max: 0 },
    http: {},
    throttleStart: null,
    checks: {},
    sensorSeq: {},
  };
  await writeFile(paths.series, '');
  newSegment(state);
  await saveCheckpoint(paths, state);
  return new Runner(state, io, boot).main();
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
    const { pidAlive } = await import('../agent/agent-process.js');
    if (pidAlive(state.pid))
      throw new EdgeReadyError(
        'EDGEFLOW_ER_RUN_ACTIVE',
        `${outDir}: edgeready pid ${state.pid} is still running`,
      );
  }
  const from = state.lastCheckpointAt;
  const to = new Date().toISOString();
  const cause =
    state.bootId !== boot ? 'reboot' : state.status === 'interrupted' ? 'stopped' : 'crash';
  state.gaps.push({
    from,
    to,
    seconds: (Date.parse(to) - Date.parse(from)) / 1000,
    cause,
    detail:
      cause === 'reboot'
        ? `boot id changed (${state.bootId} -> ${boot})`
        : cause === 'stopped'
          ? 'stopped by the operator; resumed'
          : `edgeready pid ${state.pid} stopped without finishing (crash or SIGKILL)`,
  });
  const seg = state.segments.at(-1);
  if (seg && !seg.endedAt) {
    seg.endedAt = from;
    seg.endedCleanly = false;
  }
  state.status = 'running';
  state.bootId = boot;
  state.pid = process.pid;
  delete state.finishedAt;
  newSegment(state);
  await mkdir(paths.stateDir, { recursive: true });
  const runner = new Runner(state, io, boot);
  runner.series = await loadSeries(paths.series);
  await saveCheckpoint(paths, state);
  runner.log.info({ event: 'run.resumed', gap: state.gaps.at(-1) }, 'run resumed');
  return runner.main();
}

/** Reads timeseries.jsonl; a torn last line (power loss mid-append) is cut off. */
export async function loadSeries(file: string): Promise<Sample[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) await truncate(file, Buffer.byteLength(text.slice(0, end)));
  const out: Sample[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as Sample);
    } catch {
      /* a damaged line is dropped */
    }
  }
  return out;
}
