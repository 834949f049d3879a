import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client.js';
import { api } from '../api/client.js';
import type { ReportVerification } from '../api/types.js';
import { Chart } from '../components/chart.js';
import { ErrorNote } from '../components/hooks.js';
import { formatDuration, formatNumber, formatTime } from '../lib/format.js';
import { REPORT_PLOTS, readReport, type ReportView } from '../lib/report.js';

function base64(s: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(s)));
}

/**
 * Opens an EdgeReady report archive: the agent verifies it with the suite's own verifier
 * (archive digest = quote nonce, quote signed by the enrolled TPM, ER-ID) and the page renders
 * the report and its plots only once the archive verified.
 */
export function EdgeReady() {
  const [archive, setArchive] = useState<File | null>(null);
  const [enrolment, setEnrolment] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [result, setResult] = useState<ReportVerification | undefined>(undefined);
  const [report, setReport] = useState<ReportView | undefined>(undefined);

  const verify = async (e: Event) => {
    e.preventDefault();
    if (!archive) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setReport(undefined);
    try {
      const bytes = new Uint8Array(await archive.arrayBuffer());
      const headers: Record<string, string> = { 'content-type': 'application/x-tar' };
      if (enrolment) headers['x-edgeready-enrolment'] = base64(await enrolment.text());
      const v = await api<ReportVerification>('/v1/console/edgeready/verify', {
        method: 'POST',
        body: new Blob([bytes]),
        headers,
      });
      setResult(v);
      if (v.ok) setReport(readReport(bytes));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="h-er">
      <h1 id="h-er">EdgeReady</h1>
      <form class="card" onSubmit={(e) => void verify(e)}>
        <div class="toolbar">
          <label>
            Report archive (.tar)
            <input
              type="file"
              id="er-archive"
              accept=".tar,application/x-tar"
              onChange={(e) => setArchive(e.currentTarget.files?.[0] ?? null)}
            />
          </label>
          <label>
            Enrolment record (optional)
            <input
              type="file"
              id="er-enrolment"
              accept=".json,application/json"
              onChange={(e) => setEnrolment(e.currentTarget.files?.[0] ?? null)}
            />
          </label>
          <button type="submit" class="primary" disabled={!archive || busy}>
            {busy ? 'Verifying…' : 'Verify and open'}
          </button>
        </div>
        <p class="muted">
          Without an enrolment record the archive is checked against this gateway's TPM (or the
          record in <code>http.console.enrolmentFile</code>).
        </p>
      </form>
      <ErrorNote error={error} />
      <VerifyResult result={result} />
      {report ? <ReportBody r={report} /> : null}
    </section>
  );
}

/** The verdict line, the enrolment used, and every verification step (open when rejected). */
function VerifyResult({ result }: { result: ReportVerification | undefined }) {
  const failed = result?.steps.filter((s) => s.status === 'fail') ?? [];
  const why = result?.rejected
    ? `${result.rejected.code}: ${result.rejected.message}`
    : failed.map((s) => `${s.name}: ${s.detail}`).join('; ');
  return (
    <>
      <div role="status" aria-live="polite">
        {result ? (
          <div id="er-result" data-ok={String(result.ok)}>
            <p class={`banner ${result.ok ? 'ok' : 'bad'}`}>
              {result.ok
                ? `Verified: ${result.erId ?? ''} (run verdict ${result.verdict ?? '?'})`
                : `Rejected: ${why}`}
            </p>
            <p class="muted">
              Enrolment: {result.enrolment.source}
              {result.enrolment.ekSha256
                ? `, EK sha256 ${result.enrolment.ekSha256.slice(0, 16)}…`
                : ''}
            </p>
          </div>
        ) : null}
      </div>
      {result && result.steps.length > 0 ? (
        <details class="card" open={!result.ok}>
          <summary>Verification steps</summary>
          <ol class="steps">
            {result.steps.map((s) => (
              <li key={s.name}>
                <span class={s.status === 'pass' ? 'ok' : s.status === 'fail' ? 'bad' : 'muted'}>
                  {s.status.toUpperCase()}
                </span>{' '}
                <code>{s.name}</code> {s.detail}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </>
  );
}

function ReportBody({ r }: { r: ReportView }) {
  const plots = REPORT_PLOTS.filter((p) =>
    (r.series.fields[p.field] ?? []).some((v) => v !== null),
  );
  return (
    <>
      <div class="grid">
        <div class="card">
          <h2>Run</h2>
          <dl>
            <dt>Verdict</dt>
            <dd class={r.verdict === 'pass' ? 'ok' : 'bad'}>{r.verdict.toUpperCase()}</dd>
            <dt>Board</dt>
            <dd>{r.boardId ?? '?'}</dd>
            <dt>Mode</dt>
            <dd>
              {r.mode}, suite {r.suiteVersion}
            </dd>
            <dt>Time</dt>
            <dd>
              {formatTime(r.createdAt)} → {formatTime(r.finishedAt)} (
              {formatDuration(r.activeSeconds)} active)
            </dd>
          </dl>
        </div>
        <div class="card">
          <h2>Checks</h2>
          <p>
            <span class="ok">{r.summary.pass} passed</span>,{' '}
            <span class="bad">{r.summary.fail} failed</span>, {r.summary.skip} skipped,{' '}
            {r.summary.notRun} not run
          </p>
          <p class="muted">
            QoS 2 messages {formatNumber(r.latency.messages)}, p99 {formatNumber(r.latency.p99Ms)}{' '}
            ms
          </p>
        </div>
      </div>
      <div class="charts">
        {plots.map((p) => (
          <Chart
            key={p.field}
            title={p.label}
            series={[{ label: p.label, unit: p.unit }]}
            data={[r.series.x, r.series.fields[p.field] ?? []]}
            version={r.series.x.length}
          />
        ))}
      </div>
      <div class="card scroll-x">
        <h2>Check results</h2>
        <table class="plain" id="er-checks">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Status</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {r.checks.map((c) => (
              <tr key={c.id}>
                <td>
                  <code>{c.id}</code> {c.title}
                </td>
                <td class={c.status === 'pass' ? 'ok' : c.status === 'fail' ? 'bad' : 'muted'}>
                  {c.status}
                </td>
                <td>{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
