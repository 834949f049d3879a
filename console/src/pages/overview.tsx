import { useMemo, useRef, useState } from 'preact/hooks';
import type { Overview as OverviewData } from '../api/types.js';
import { Chart } from '../components/chart.js';
import { ErrorNote, LiveBadge, usePoll, useStream } from '../components/hooks.js';
import { formatDuration, formatNumber, formatTime } from '../lib/format.js';
import { HistoryBuffer } from '../lib/history.js';
import { useApp } from '../app-context.js';

/** The plots of the last hour: which series of the agent's ring each one draws. */
const PLOTS = [
  { id: 'plot-ingest', title: 'Ingest', names: ['ingestRate', 'rejectedRate'] },
  { id: 'plot-latency', title: 'Latency', names: ['delayP99Ms', 'walFsyncP99Ms', 'loopP99Ms'] },
  { id: 'plot-cpu', title: 'CPU', names: ['cpuPercent'] },
  { id: 'plot-memory', title: 'Memory', names: ['rssMiB', 'heapMiB'] },
  { id: 'plot-disk', title: 'Disk', names: ['diskUsedPercent'] },
] as const;

function Dl({ rows }: { rows: [string, preact.ComponentChildren][] }) {
  return (
    <dl>{rows.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}</dl>
  );
}

export function Overview() {
  const app = useApp();
  const { data, error } = usePoll<OverviewData>(
    '/v1/console/overview',
    15_000,
    '/v1/console/overview?history=0',
  );
  const buf = useRef<HistoryBuffer | null>(null);
  const [version, setVersion] = useState(0);
  if (data?.history && (buf.current === null || buf.current.names.length !== data.series.length)) {
    buf.current = new HistoryBuffer(data.series.map((s) => s.name));
    buf.current.load(data.history);
  }
  const live = useStream(['samples'], (e) => {
    if (e.type !== 'sample' || buf.current === null) return;
    const s = JSON.parse(e.data) as { t: number; values: Record<string, number | null> };
    buf.current.push(s.t, s.values);
    setVersion(buf.current.version);
  });
  const info = useMemo(() => new Map(data?.series.map((s) => [s.name, s]) ?? []), [data]);
  const b = buf.current;
  const latest = (n: string) => b?.latest(n) ?? null;
  const now = Date.now() + app.clockOffset();

  return (
    <section aria-labelledby="h-overview">
      <div class="toolbar">
        <h1 id="h-overview">Overview</h1>
        <LiveBadge state={live} />
      </div>
      <ErrorNote error={error} />
      {data ? (
        <>
          <div class="grid">
            <div class="card">
              <h2>Gateway</h2>
              <Dl
                rows={[
                  ['Host', data.agent.hostname],
                  ['Board', data.board ? `${data.board.name} (${data.board.id})` : 'no HAL'],
                  ['Version', <code>{data.agent.version}</code>],
                  ['Uptime', formatDuration((now - data.agent.startedAt) / 1000)],
                  ['Node.js', data.agent.node],
                ]}
              />
            </div>
            <div class="card">
              <h2>Readiness</h2>
              <p class={data.readiness.ready ? 'ok big' : 'bad big'}>
                {data.readiness.ready ? 'Ready' : 'Not ready'}
              </p>
              <ul class="checks">
                {Object.entries(data.readiness.checks).map(([k, ok]) => (
                  <li key={k}>
                    <span class={ok ? 'ok' : 'bad'}>{ok ? '✓' : '✗'}</span> {k}
                  </li>
                ))}
              </ul>
            </div>
            <div class="card">
              <h2>Ingest now</h2>
              <Dl
                rows={[
                  ['Readings', `${formatNumber(latest('ingestRate'))} /s`],
                  ['p99 delay', `${formatNumber(latest('delayP99Ms'))} ms`],
                  ['Rejected', `${formatNumber(latest('rejectedRate'))} /s`],
                  ['WAL fsync p99', `${formatNumber(latest('walFsyncP99Ms'))} ms`],
                  ['Sensors', formatNumber(data.counts.sensors)],
                  ['MQTT clients', formatNumber(data.counts.mqttClients)],
                ]}
              />
            </div>
            <div class="card">
              <h2>Resources</h2>
              <Dl
                rows={[
                  ['CPU', `${formatNumber(latest('cpuPercent'))} %`],
                  ['RSS', `${formatNumber(latest('rssMiB'))} MiB`],
                  ['Disk used', `${formatNumber(latest('diskUsedPercent'))} %`],
                  ['Event loop p99', `${formatNumber(latest('loopP99Ms'))} ms`],
                ]}
              />
            </div>
            <div class="card">
              <h2>Last update</h2>
              {data.ota.error ? (
                <p class="muted">{data.ota.error}</p>
              ) : (
                <Dl
                  rows={[
                    ['Current', data.ota.current ?? 'not managed by OTA'],
                    [
                      'Trial',
                      data.ota.trial ? (
                        <span class="warn">{data.ota.trial.version} on trial</span>
                      ) : (
                        'none'
                      ),
                    ],
                    [
                      'Last event',
                      data.ota.last
                        ? `${data.ota.last.event} ${data.ota.last.version} at ${formatTime(data.ota.last.at)}`
                        : 'none',
                    ],
                  ]}
                />
              )}
            </div>
            <div class="card">
              <h2>Attestation</h2>
              <Dl
                rows={[
                  ['TPM', data.attestation.state],
                  [
                    'Last check',
                    data.attestation.lastCheck ? (
                      <span class={data.attestation.lastCheck.ok ? 'ok' : 'bad'}>
                        {data.attestation.lastCheck.ok
                          ? 'verified'
                          : `failed: ${data.attestation.lastCheck.failed.join(', ')}`}{' '}
                        at {formatTime(data.attestation.lastCheck.at)}
                      </span>
                    ) : (
                      'not run yet'
                    ),
                  ],
                  ['Detail', <span class="muted">{data.attestation.detail}</span>],
                ]}
              />
            </div>
          </div>
          <div class="charts">
            {b
              ? PLOTS.map((p) => {
                  const names = p.names.filter((n) => info.has(n));
                  return (
                    <Chart
                      key={p.id}
                      id={p.id}
                      title={p.title}
                      series={names.map((n) => ({
                        label: info.get(n)?.label ?? n,
                        unit: info.get(n)?.unit ?? '',
                      }))}
                      data={b.columns(names)}
                      version={version + b.version}
                    />
                  );
                })
              : null}
          </div>
        </>
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
