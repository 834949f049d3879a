import type { Sample } from '../sample/series.js';
import type { Report } from './build.js';
import { escHtml as e, linePlot } from './svg.js';

const COLORS: Record<string, string> = {
  pass: '#1a7f37',
  fail: '#cf222e',
  skip: '#9a6700',
  simulated: '#8250df',
  'not-run': '#6e7781',
};

/** report.html: self-contained (inline CSS and SVG, no script, no network). */
export function renderHtml(r: Report, series: readonly Sample[]): string {
  const plots = [
    linePlot(series, 'rate', 'QoS 2 throughput (PUBCOMP/s)', 'msg/s'),
    linePlot(series, 'p99', 'p99 publish→PUBCOMP latency', 'ms'),
    linePlot(series, 'cacheP99', 'p99 publish→cache latency (sampled)', 'ms'),
    linePlot(series, 'rss', 'Agent resident memory', 'MiB', 1048576),
    linePlot(series, 'fds', 'Agent open file descriptors', 'fds'),
    linePlot(series, 'tempC', 'Temperature (hottest zone)', '°C'),
    linePlot(series, 'cpuMHz', 'CPU frequency (highest core)', 'MHz'),
    linePlot(series, 'diskBytes', 'Agent data directory', 'MiB', 1048576),
  ];
  const rows = r.checks
    .map(
      (c) =>
        `<tr><td><code>${e(c.id)}</code></td><td>${e(c.title)}</td><td class="st" style="color:${COLORS[c.status] ?? '#000'}">${c.status.toUpperCase()}</td><td>${e(c.detail)}</td><td>${c.counts.pass}/${c.counts.fail}/${c.counts.skip}</td></tr>`,
    )
    .join('\n');
  const gaps =
    r.gaps.length === 0
      ? '<p>No interruption.</p>'
      : `<table><tr><th>from</th><th>to</th><th>seconds</th><th>cause</th><th>detail</th></tr>${r.gaps
          .map(
            (g) =>
              `<tr><td>${e(g.from)}</td><td>${e(g.to)}</td><td>${g.seconds.toFixed(1)}</td><td>${e(g.cause)}</td><td>${e(g.detail)}</td></tr>`,
          )
          .join('')}</table>`;
  const v = r.verdict;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EdgeReady report ${e(r.erId ?? r.runId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{margin:0 0 4px}table{border-collapse:collapse;background:#fff;margin:8px 0}
td,th{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}
.verdict{font-size:20px;font-weight:bold;color:${COLORS[v === 'incomplete' ? 'skip' : v === 'pass (simulated)' ? 'simulated' : v] ?? '#000'}}
.plots{display:flex;flex-wrap:wrap;gap:12px}.st{font-weight:bold}
</style></head><body>
<h1>EdgeReady report</h1>
<p class="verdict" id="verdict">${v.toUpperCase()}${r.status === 'partial' ? ' (partial report: the run was stopped)' : ''}</p>
<table>
<tr><th>ER-ID</th><td id="er-id">${e(r.erId ?? 'none (no TPM)')}</td></tr>
<tr><th>board</th><td>${e(r.boardId ?? '?')}</td></tr>
<tr><th>run</th><td>${e(r.runId)}, ${e(r.mode)} mode, suite ${e(r.suiteVersion)}</td></tr>
<tr><th>time</th><td>${e(r.createdAt)} → ${e(r.finishedAt)}; active ${r.activeSeconds.toFixed(0)} s of ${r.plannedSeconds} s planned</td></tr>
<tr><th>checks</th><td>${r.summary.pass} passed, ${r.summary.simulated} passed on a stand-in, ${r.summary.fail} failed, ${r.summary.skip} skipped, ${r.summary.notRun} not run</td></tr>
<tr><th>QoS 2 messages</th><td>${r.latency.messages}, p50 ${r.latency.p50Ms?.toFixed(1) ?? '–'} ms, p99 ${r.latency.p99Ms?.toFixed(1) ?? '–'} ms, max ${r.latency.maxMs.toFixed(1)} ms</td></tr>
</table>
${r.failure ? `<p class="verdict">The run failed: ${e(r.failure.code)}: ${e(r.failure.message)}</p>` : ''}
${r.simulated.length ? `<p>Not a certification: ${r.simulated.length} check(s) passed only against a stand-in:</p><ul>${r.simulated.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''}
<p>Every sample and check execution is in evidence.jsonl, a hash chain dated by ${r.anchors.quoted} TPM
quotes; this file, report.json, junit.xml, timeseries.jsonl and agent.log are bound to the device by
attestation.json in the archive, a TPM quote over the archive's content. <code>edgeready
verify-report ARCHIVE --enrolment FILE</code> re-judges the evidence and recomputes this verdict.</p>
<h2>Time series</h2>
<div class="plots">
${plots.join('\n')}
</div>
<h2>Interruptions</h2>
${gaps}
<h2>Checks</h2>
<table><tr><th>ID</th><th>check</th><th>status</th><th>detail</th><th>pass/fail/skip</th></tr>
${rows}
</table>
</body></html>
`;
}
