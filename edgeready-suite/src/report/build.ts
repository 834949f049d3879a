import { catalog } from '../catalog/catalog.js';
import { LatencyHistogram } from '../load/histogram.js';
import { checkStatus, type CheckStatus } from '../run/results.js';
import type { Execution, Gap, RunOptions, RunState, Segment } from '../run/types.js';
import { summarize, type FieldSummary, type Sample, type SampleField } from '../sample/series.js';

/** One check in the report. */
export interface ReportCheck {
  readonly id: string;
  readonly category: string;
  readonly title: string;
  readonly requirement: string;
  readonly pass: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly counts: { pass: number; fail: number; skip: number };
  readonly executions: readonly Execution[];
}

/** report.json (schema `edgeready-report/v1`). */
export interface Report {
  readonly schema: 'edgeready-report/v1';
  readonly suiteVersion: string;
  readonly runId: string;
  readonly erId: string | null;
  readonly boardId: string | null;
  readonly ekPublic: string | null;
  readonly tpmUnavailable: string | null;
  readonly mode: RunOptions['mode'];
  readonly status: 'complete' | 'partial';
  readonly verdict: 'pass' | 'fail' | 'incomplete';
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly plannedSeconds: number;
  readonly activeSeconds: number;
  readonly options: RunOptions;
  readonly agent: { url: string; own: boolean; starts: number };
  readonly gaps: readonly Gap[];
  readonly segments: readonly Omit<Segment, 'keys'>[];
  readonly summary: { pass: number; fail: number; skip: number; notRun: number };
  readonly checks: readonly ReportCheck[];
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

/** Builds the report from the final state and the time series. */
export function buildReport(state: RunState, series: readonly Sample[], partial: boolean): Report {
  const checks: ReportCheck[] = catalog.map((d) => {
    const rec = state.checks[d.id];
    const status = checkStatus(rec);
    const shown =
      rec?.executions.filter((e) => e.status === 'fail').at(-1) ?? rec?.executions.at(-1);
    return {
      id: d.id,
      category: d.category,
      title: d.title,
      requirement: d.requirement,
      pass: d.pass,
      status,
      detail:
        shown?.detail ??
        (partial ? 'not run: the run was stopped before this check' : 'not run in this mode'),
      counts: { pass: rec?.pass ?? 0, fail: rec?.fail ?? 0, skip: rec?.skip ?? 0 },
      executions: rec?.executions ?? [],
    };
  });
  const summary = { pass: 0, fail: 0, skip: 0, notRun: 0 };
  for (const c of checks) {
    if (c.status === 'not-run') summary.notRun++;
    else summary[c.status]++;
  }
  const verdict = summary.fail > 0 ? 'fail' : partial ? 'incomplete' : 'pass';
  const h = new LatencyHistogram(state.latency.counts, state.latency.max);
  const ts: Partial<Record<SampleField, FieldSummary>> = {};
  for (const f of FIELDS) {
    const s = summarize(series, f);
    if (s) ts[f] = s;
  }
  return {
    schema: 'edgeready-report/v1',
    suiteVersion: state.suiteVersion,
    runId: state.runId,
    erId: state.identity?.erId ?? null,
    boardId: state.identity?.boardId ?? null,
    ekPublic: state.identity?.ekPublic ?? null,
    tpmUnavailable: state.identity?.tpmUnavailable ?? null,
    mode: state.options.mode,
    status: partial ? 'partial' : 'complete',
    verdict,
    createdAt: state.createdAt,
    finishedAt: state.finishedAt ?? new Date().toISOString(),
    plannedSeconds: state.options.durationMs / 1000,
    activeSeconds: Math.round(state.activeMs) / 1000,
    options: state.options,
    agent: { url: state.agent.url, own: state.agent.own !== null, starts: state.agent.starts },
    gaps: state.gaps,
    segments: state.segments.map(({ keys: _keys, ...s }) => s),
    summary,
    checks,
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
    },
  };
}
