/**
 * The parts of an EdgeReady archive the page renders: report.json (summary and checks) and
 * timeseries.jsonl (the plots). Shapes follow edgeready-report/v1; anything missing renders as
 * absent rather than failing, since verification (the agent's job) already judged the bytes.
 */
import { readTar } from './tar.js';

export interface ReportCheckView {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  readonly detail: string;
}

export interface ReportView {
  readonly verdict: string;
  readonly erId: string | null;
  readonly boardId: string | null;
  readonly runId: string;
  readonly mode: string;
  readonly suiteVersion: string;
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly activeSeconds: number;
  readonly summary: { pass: number; fail: number; skip: number; notRun: number };
  readonly latency: { messages: number; p50Ms: number | null; p99Ms: number | null };
  readonly checks: readonly ReportCheckView[];
  /** Sample fields → [t seconds[], values[]] */
  readonly series: { readonly x: number[]; readonly fields: Record<string, (number | null)[]> };
}

export const REPORT_PLOTS = [
  { field: 'rate', label: 'QoS 2 throughput', unit: 'msg/s', scale: 1 },
  { field: 'p99', label: 'p99 publish→PUBCOMP', unit: 'ms', scale: 1 },
  { field: 'cacheP99', label: 'p99 publish→cache', unit: 'ms', scale: 1 },
  { field: 'rss', label: 'Agent RSS', unit: 'MiB', scale: 1 / 1048576 },
  { field: 'tempC', label: 'Temperature', unit: '°C', scale: 1 },
  { field: 'diskBytes', label: 'Data directory', unit: 'MiB', scale: 1 / 1048576 },
] as const;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

/** Reads an archive's report and series; throws when report.json is missing or not JSON. */
export function readReport(archive: Uint8Array): ReportView {
  const members = readTar(archive);
  const text = (name: string) => {
    const m = members.find((x) => x.name === name);
    return m === undefined ? undefined : new TextDecoder().decode(m.data);
  };
  const reportText = text('report.json');
  if (reportText === undefined) throw new Error('the archive has no report.json');
  const r = JSON.parse(reportText) as Record<string, unknown>;
  const x: number[] = [];
  const fields: Record<string, (number | null)[]> = {};
  for (const p of REPORT_PLOTS) fields[p.field] = [];
  for (const line of (text('timeseries.jsonl') ?? '').split('\n')) {
    if (line.trim() === '') continue;
    let s: Record<string, unknown>;
    try {
      s = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const t = num(s.t);
    if (t === null) continue;
    x.push(t / 1000);
    for (const p of REPORT_PLOTS) {
      const v = num(s[p.field]);
      fields[p.field]?.push(v === null ? null : v * p.scale);
    }
  }
  const summary = (r.summary ?? {}) as Record<string, unknown>;
  const latency = (r.latency ?? {}) as Record<string, unknown>;
  const checks = Array.isArray(r.checks) ? (r.checks as Record<string, unknown>[]) : [];
  return {
    verdict: str(r.verdict, '?'),
    erId: typeof r.erId === 'string' ? r.erId : null,
    boardId: typeof r.boardId === 'string' ? r.boardId : null,
    runId: str(r.runId),
    mode: str(r.mode),
    suiteVersion: str(r.suiteVersion),
    createdAt: str(r.createdAt),
    finishedAt: str(r.finishedAt),
    activeSeconds: num(r.activeSeconds) ?? 0,
    summary: {
      pass: num(summary.pass) ?? 0,
      fail: num(summary.fail) ?? 0,
      skip: num(summary.skip) ?? 0,
      notRun: num(summary.notRun) ?? 0,
    },
    latency: {
      messages: num(latency.messages) ?? 0,
      p50Ms: num(latency.p50Ms),
      p99Ms: num(latency.p99Ms),
    },
    checks: checks.map((c) => ({
      id: str(c.id),
      title: str(c.title),
      status: str(c.status),
      detail: str(c.detail),
    })),
    series: { x, fields },
  };
}
