import { catalog } from '../catalog/catalog.js';
import { LatencyHistogram } from '../load/histogram.js';
import type { EvidenceView } from '../evidence/view.js';
import type { Execution, Gap, RunOptions, RunState, Segment } from '../run/types.js';
import { aggregate, verdictOf, type CheckStatus, type RunVerdict } from './aggregate.js';
import { summarize, type FieldSummary, type SampleField } from '../sample/series.js';

/** One check in the report. */
export interface ReportCheck {
  readonly id: string;
  readonly category: string;
  readonly title: string;
  readonly requirement: string;
  readonly pass: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly counts: { pass: number; fail: number; skip: number; simulated: number };
  readonly executions: readonly Execution[];
}

/** What the checks add up to: the part of report.json verify-report recomputes. */
export interface JudgedPart {
  readonly status: 'complete' | 'partial';
  readonly verdict: RunVerdict;
  readonly failure: { code: string; message: string } | null;
  readonly summary: { pass: number; fail: number; skip: number; simulated: number; notRun: number };
  /** Checks passed against a stand-in, with why: the reasons the verdict is not a plain pass. */
  readonly simulated: readonly string[];
  readonly checks: readonly ReportCheck[];
}

/** report.json (schema `edgeready-report/v2`). */
export interface Report extends JudgedPart {
  readonly schema: 'edgeready-report/v2';
  readonly suiteVersion: string;
  readonly runId: string;
  readonly erId: string | null;
  readonly boardId: string | null;
  readonly ekPublic: string | null;
  readonly tpmUnavailable: string | null;
  readonly mode: RunOptions['mode'];
  /** The certifier's nonce bound into the first TPM anchor (--challenge), or null. */
  readonly challenge: string | null;
  /** TPM anchors over the evidence chain: quoted, and failed (no TPM, refused). */
  readonly anchors: { quoted: number; failed: number };
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly plannedSeconds: number;
  readonly activeSeconds: number;
  readonly options: RunOptions;
  readonly agent: { url: string; own: boolean; starts: number };
  readonly gaps: readonly Gap[];
  readonly segments: readonly Omit<Segment, 'keys'>[];
  readonly latency: { messages: number; p50Ms: number | null; p99Ms: number | null; maxMs: number };
  readonly timeseries: Partial<Record<SampleField, FieldSummary>>;
  readonly files: Record<string, string>;
}

const FIELDS: SampleField[] = [
  'rate',
  'ingestRate',
  'p99',
  'cacheP99',
  'rss',
  'fds',
  'lagP99',
  'tempC',
  'cpuMHz',
  'diskBytes',
  'fsUsed',
];

/**
 * Checks, summary and verdict from the evidence chain alone (the same function verify-report
 * runs on the archived chain): `partial` and `failure` come from the chain's end record.
 */
export function judgedPart(view: EvidenceView): JudgedPart {
  const end = view.end;
  const partial = end?.status !== 'finished';
  const failure =
    end?.status === 'failed'
      ? { code: end.code ?? 'EDGEFLOW_ER_INTERNAL', message: end.detail }
      : null;
  const checks: ReportCheck[] = catalog.map((d) => {
    const agg = aggregate(view.execs.filter((e) => e.id === d.id));
    return {
      id: d.id,
      category: d.category,
      title: d.title,
      requirement: d.requirement,
      pass: d.pass,
      status: agg.status,
      detail:
        agg.shown?.detail ??
        (failure
          ? 'not run: the run failed before this check'
          : partial
            ? 'not run: the run was stopped before this check'
            : 'not run in this mode'),
      counts: agg.counts,
      executions: agg.executions,
    };
  });
  const summary = { pass: 0, fail: 0, skip: 0, simulated: 0, notRun: 0 };
  for (const c of checks) {
    if (c.status === 'not-run') summary.notRun++;
    else summary[c.status]++;
  }
  return {
    status: partial ? 'partial' : 'complete',
    verdict: verdictOf(
      checks.map((c) => c.status),
      partial,
      failure !== null,
    ),
    failure,
    summary,
    simulated: checks.filter((c) => c.status === 'simulated').map((c) => `${c.id}: ${c.detail}`),
    checks,
  };
}

/** Builds the report from the final state and the evidence chain. */
export function buildReport(state: RunState, view: EvidenceView): Report {
  const judged = judgedPart(view);
  const series = view.samples;
  const h = new LatencyHistogram(state.latency.counts, state.latency.max);
  const ts: Partial<Record<SampleField, FieldSummary>> = {};
  for (const f of FIELDS) {
    const s = summarize(series, f);
    if (s) ts[f] = s;
  }
  return {
    schema: 'edgeready-report/v2',
    suiteVersion: state.suiteVersion,
    runId: state.runId,
    erId: state.identity?.erId ?? null,
    boardId: state.identity?.boardId ?? null,
    ekPublic: state.identity?.ekPublic ?? null,
    tpmUnavailable: state.identity?.tpmUnavailable ?? null,
    mode: state.options.mode,
    challenge: view.run?.challenge ?? null,
    anchors: {
      quoted: view.anchors.filter((a) => a.clock !== null).length,
      failed: view.anchors.filter((a) => a.clock === null).length,
    },
    ...judged,
    createdAt: state.createdAt,
    finishedAt: state.finishedAt ?? new Date().toISOString(),
    plannedSeconds: state.options.durationMs / 1000,
    activeSeconds: Math.round(state.activeMs) / 1000,
    options: state.options,
    agent: { url: state.agent.url, own: state.agent.own !== null, starts: state.agent.starts },
    gaps: state.gaps,
    segments: state.segments.map(({ keys: _keys, ...s }) => s),
    latency: {
      messages: h.total,
      p50Ms: h.quantile(0.5) ?? null,
      p99Ms: h.quantile(0.99) ?? null,
      maxMs: h.max,
    },
    timeseries: ts,
    files: {
      'junit.xml': 'one testcase per check',
      'report.html': 'self-contained report with plots',
      'agent.log': 'the agent’s log for the run',
      'timeseries.jsonl': 'every sample of the run',
      'evidence.jsonl':
        'the hash-chained evidence: every sample, every check execution with its raw evidence, gaps and TPM anchors',
    },
  };
}
