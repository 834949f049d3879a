import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../lib/format.js';

export interface ChartSeries {
  readonly label: string;
  readonly unit: string;
}

interface Props {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** uPlot layout: x (seconds since the epoch), then one array per series. */
  readonly data: [number[], ...(number | null)[][]];
  /** Changes whenever data changed (the arrays are mutated in place). */
  readonly version: number;
  readonly height?: number;
  readonly id?: string;
}

const COLORS = ['--chart-1', '--chart-2', '--chart-3', '--chart-4'];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#0b5cad';
}

function latest(a: readonly (number | null)[] | undefined): number | null {
  if (!a) return null;
  for (let i = a.length - 1; i >= 0; i--) {
    const v = a[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/**
 * A time-series plot (uPlot on a canvas). Its legend is plain text under the plot (latest
 * values), which screen readers read and which the figure's label summarises.
 */
export function Chart({ title, series, data, version, height = 180, id }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--muted');
    const grid = cssVar('--border');
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 56,
          values: (_u, vals) => vals.map((v) => formatNumber(v)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: cssVar(COLORS[i % COLORS.length] ?? '--chart-1'),
          width: 1.5,
          spanGaps: false,
          points: { show: false },
        })),
      ],
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Re-created only when the set of series changes; data updates go through setData below.
  }, [series.map((s) => s.label).join('|'), height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [version, data]);

  const summary = series
    .map((s, i) => `${s.label} ${formatNumber(latest(data[i + 1]))} ${s.unit}`)
    .join(', ');
  return (
    <figure class="card chart-card" id={id}>
      <figcaption>{title}</figcaption>
      <div class="chart" ref={box} role="img" aria-label={`${title}: last hour. Now: ${summary}`} />
      <div class="legend" aria-hidden="true">
        {series.map((s, i) => (
          <span key={s.label}>
            <span class={`sw s${(i % 4) + 1}`} />
            {s.label}: {formatNumber(latest(data[i + 1]))} {s.unit}
          </span>
        ))}
      </div>
    </figure>
  );
}
