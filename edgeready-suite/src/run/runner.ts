import { appendFile, readFile } from 'node:fs/promises';
import { detectBoard, type DetectedBoard } from '@edgeflow/hal';
import { createLogger } from '@edgeflow/core/log';
import { pino, type Logger } from 'pino';
import type { AgentClient, Metrics } from '../agent/agent-http.js';
import { stopAgent } from '../agent/agent-process.js';
import { edgeflowRunner, otaRunner, type EdgeflowRunner } from '../agent/edgeflow-cli.js';
import { catalog } from '../catalog/catalog.js';
import type { Phase } from '../catalog/types.js';
import { judgeExec } from '../checks/judge.js';
import { DATA_ONLY, RUNS_LAST, implementations } from '../checks/registry.js';
import type { CheckContext } from '../checks/types.js';
import { takeAnchor } from '../evidence/anchors.js';
import type { EvidenceLog } from '../evidence/chain.js';
import type { AnchorRecord, EvidenceRecord, ExecRecord } from '../evidence/records.js';
import { EvidenceView } from '../evidence/view.js';
import { EdgeReadyError } from '../errors.js';
import { LatencyHistogram, quantile } from '../load/histogram.js';
import type { HttpLoad } from '../load/http-load.js';
import type { MqttLoad } from '../load/mqtt-load.js';
import { aggregate } from '../report/aggregate.js';
import type { RunVerdict } from '../report/aggregate.js';
import type { Sample } from '../sample/series.js';
import { diskUsage, readCpufreq, readThermal } from '../sample/sysfs.js';
import { runPaths, saveCheckpoint, type RunPaths } from './checkpoint.js';
import { progressLine, type Progress } from './progress.js';
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
  readonly verdict: RunVerdict;
  readonly files: readonly string[];
}

/** Longest active time between two TPM anchors of a stress run. */
const MAX_ANCHOR_EVERY_MS = 10 * 60_000;

/**
 * One segment of a run: the checks, the load, the samples and the TPM anchors, every piece of
 * evidence appended to the run's evidence chain as it is made (see docs/edgeready.md).
 */
export class Runner {
  readonly paths: RunPaths;
  readonly log: Logger;
  readonly edgeflow: EdgeflowRunner;
  readonly ota: EdgeflowRunner;
  readonly view = new EvidenceView();
  load: MqttLoad | undefined;
  http: HttpLoad | undefined;
  agent: AgentClient | undefined;
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
    readonly chain: EvidenceLog,
    recorded: readonly EvidenceRecord[],
  ) {
    for (const r of recorded) this.view.observe(r);
    this.paths = runPaths(state.options.outDir);
    // The suite's log file: the same record shape as the agent's and the OTA tool's (the
    // shared setup), JSON always (it is read back into the report).
    this.log = createLogger({
      service: 'edgeready',
      format: 'json',
      journal: false,
      tty: false,
      destination: pino.destination({ dest: this.paths.suiteLog, append: true, sync: true }),
    }).child({ component: 'edgeready', runId: state.runId });
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

  get seg(): number {
    return this.state.segments.length - 1;
  }

  /** Appends a record to the chain and to the view judges read. */
  async record(r: EvidenceRecord): Promise<void> {
    await this.chain.append(r);
    this.view.observe(r);
  }

  board(): Promise<DetectedBoard> {
    this.boardCache ??= detectBoard({ root: this.opts.root, board: this.opts.board });
    return this.boardCache;
  }

  ctx(phase: Phase): CheckContext {
    if (!this.agent) throw new EdgeReadyError('EDGEFLOW_ER_AGENT_UNREACHABLE', 'no agent');
    return {
      opts: this.opts,
      state: this.state,
      paths: this.paths,
      phase,
      agent: this.agent,
      edgeflow: this.edgeflow,
      ota: this.ota,
      series: this.view.samples,
      load: this.load,
      board: () => this.board(),
      interrupted: this.stopRequested,
    };
  }

  async anchor(why: AnchorRecord['why']): Promise<void> {
    if (!this.agent) return;
    const a = await takeAnchor(this.chain, this.agent, {
      why,
      a: this.state.activeMs,
      seg: this.seg,
      pcrs: this.opts.pcrs,
    });
    this.view.observe(a);
    if (a.failed)
      this.log.warn({ event: 'anchor.failed', why, err: a.failed }, 'TPM anchor failed');
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

  /** Collects, judges and records one execution of a check. */
  async execute(id: string, phase: Phase): Promise<ExecRecord> {
    const impl = implementations[id];
    let raw: unknown;
    try {
      if (!impl) throw new Error(`no implementation of ${id}`);
      raw = await impl.collect(this.ctx(phase));
    } catch (e) {
      raw = {
        collectError: `${e instanceof EdgeReadyError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`,
      };
    }
    // The judge sees exactly what the chain will hold (and verify-report will read back).
    raw = JSON.parse(JSON.stringify(raw ?? null)) as unknown;
    const agentLog =
      id === 'ER-SYS-AGENT-LOG'
        ? await readFile(this.paths.agentLog).catch(() => undefined)
        : undefined;
    const out = judgeExec(id, this.view.input(raw, this.opts, phase, agentLog));
    const rec: ExecRecord = {
      k: 'exec',
      id,
      phase,
      at: new Date().toISOString(),
      a: Math.round(this.state.activeMs),
      seg: this.seg,
      raw,
      status: out.status,
      detail: out.detail,
      evidence: JSON.parse(JSON.stringify(out.evidence)) as Record<string, unknown>,
    };
    await this.record(rec);
    this.log.info(
      { event: 'check', id, phase, status: out.status },
      `${id}: ${out.status} ${out.detail}`,
    );
    return rec;
  }

  async round(phase: Phase): Promise<void> {
    const ids = catalog
      .filter((c) => c.phases.includes(phase))
      .filter(() => this.opts.mode === 'stress' || phase !== 'periodic')
      .filter((c) => !(phase === 'end' && this.stopRequested && !DATA_ONLY.has(c.id)))
      .map((c) => c.id)
      .sort((a, b) => Number(RUNS_LAST.has(a)) - Number(RUNS_LAST.has(b)));
    this.state.rounds++;
    for (const id of ids) await this.execute(id, phase);
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
      m = await this.agent?.metrics();
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
      seg: this.seg,
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
    await this.record({ k: 'sample', s });
    this.last = s;
    await appendFile(this.paths.series, `${JSON.stringify(s)}\n`);
  }

  tally(): { pass: number; fail: number; skip: number; simulated: number } {
    const t = { pass: 0, fail: 0, skip: 0, simulated: 0 };
    for (const id of new Set(this.view.execs.map((e) => e.id))) {
      const s = aggregate(this.view.execs.filter((e) => e.id === id)).status;
      if (s !== 'not-run') t[s]++;
    }
    return t;
  }

  progress(phase: string): void {
    const remaining = Math.max(0, this.opts.durationMs - this.state.activeMs);
    const p: Progress = {
      type: 'progress',
      runId: this.state.runId,
      segment: this.seg,
      elapsedMs: Math.round(this.state.activeMs),
      remainingMs: Math.round(remaining),
      percent: Math.min(100, (100 * this.state.activeMs) / this.opts.durationMs),
      rate: this.last.rate ?? null,
      p99Ms: this.last.p99 ?? null,
      rssBytes: this.last.rss ?? null,
      fds: this.last.fds ?? null,
      tempC: this.last.tempC ?? null,
      acked: this.load?.ackedTotal ?? 0,
      checks: this.tally(),
      phase,
    };
    if (this.io.jsonProgress) this.io.stdout.write(`${JSON.stringify(p)}\n`);
    else if (this.io.stderr.isTTY) this.io.stderr.write(`\r\x1b[K${progressLine(p)}`);
    else if (Math.round(this.state.activeMs / 1000) % 10 === 0)
      this.io.stderr.write(`${progressLine(p)}\n`);
  }

  /** Stops the suite's own agent (end of the run, or a failed start). */
  async stopOwnAgent(): Promise<void> {
    if (!this.state.agent.own) return;
    const how = await stopAgent(this.state.agent.own.pid);
    this.log.info({ event: 'agent.stopped', how }, `agent ${how}`);
  }

  /** Active time between periodic anchors: the periodic interval, at most 10 minutes. */
  get anchorEveryMs(): number {
    return Math.min(this.opts.intervalMs, MAX_ANCHOR_EVERY_MS);
  }
}
