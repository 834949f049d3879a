import { useMemo, useRef, useState } from 'preact/hooks';
import type { Overview as OverviewData } from '../api/types.js';
import { Chart } from '../components/chart.js';
import { ErrorNote, LiveBadge, usePoll, useStream } from '../components/hooks.js';
import { OverviewCards } from '../components/overview-cards.js';
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

/**
 * The gateway at a glance: status cards (refreshed every 15 s without the history) and the
 * last hour of the agent's health ring (loaded once, then one sample a second from the stream).
 */
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
  return (
    <section aria-labelledby="h-overview">
      <div class="toolbar">
        <h1 id="h-overview">Overview</h1>
        <LiveBadge state={live} />
      </div>
      <ErrorNote error={error} />
      {data ? (
        <OverviewCards
          o={data}
          latest={(n) => b?.latest(n) ?? null}
          now={Date.now() + app.clockOffset()}
        />
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
      {b ? (
        <div class="charts">
          {PLOTS.map((p) => {
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
          })}
        </div>
      ) : null}
    </section>
  );
}
