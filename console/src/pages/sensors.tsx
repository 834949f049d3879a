import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { ErrorNote, LiveBadge, useStream, useTicker } from '../components/hooks.js';
import { Sparkline } from '../components/sparkline.js';
import { formatAge, formatNumber, formatValue } from '../lib/format.js';
import {
  SensorStore,
  isStale,
  orderByMembership,
  view,
  type SensorRow,
  type QualityFilter,
  type SensorTuple,
  type SortDir,
  type SortKey,
} from '../lib/sensors.js';
import { useApp } from '../app-context.js';

const ROW = 40;
const OVERSCAN = 8;
const STALE_CHOICES = [10, 30, 60, 300, 900, 3600];

interface Column {
  readonly key: SortKey | 'spark';
  readonly label: string;
  readonly cls: string;
}
const ALL_COLUMNS: readonly Column[] = [
  { key: 'key', label: 'Sensor', cls: 'c-key' },
  { key: 'value', label: 'Value', cls: 'c-value' },
  { key: 'spark', label: 'Recent', cls: 'c-spark' },
  { key: 'age', label: 'Age', cls: 'c-age' },
  { key: 'quality', label: 'Quality', cls: 'c-quality' },
  { key: 'source', label: 'Source', cls: 'c-source' },
  { key: 'seq', label: 'Seq', cls: 'c-seq' },
];
const NARROW = new Set(['key', 'value', 'age']);

interface Options {
  readonly query: string;
  readonly quality: QualityFilter;
  readonly sort: SortKey;
  readonly dir: SortDir;
  readonly staleSec: number;
}

function readParams(): Options {
  const p = new URLSearchParams(window.location.search);
  const sort = (p.get('sort') ?? 'key') as SortKey;
  return {
    query: p.get('q') ?? '',
    quality: (p.get('quality') ?? 'all') as QualityFilter,
    sort: ALL_COLUMNS.some((c) => c.key === sort) ? sort : 'key',
    dir: p.get('dir') === 'desc' ? 'desc' : 'asc',
    staleSec: Number(p.get('stale') ?? 60) || 60,
  };
}

function useNarrow(): boolean {
  const mq = useMemo(() => window.matchMedia('(max-width: 700px)'), []);
  const [narrow, setNarrow] = useState(mq.matches);
  useEffect(() => {
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [mq]);
  return narrow;
}

/** The cache as a live table: virtualised rows, sortable columns, a filter, stale marking. */
export function Sensors() {
  const app = useApp();
  const store = useRef(new SensorStore());
  const [version, setVersion] = useState(0);
  const [opts, setOpts] = useState(readParams);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const [error, setError] = useState<Error | undefined>(undefined);
  const box = useRef<HTMLDivElement>(null);
  const fetched = useRef(new Set<string>());
  const narrow = useNarrow();
  useTicker(1000);

  const live = useStream(['sensors'], (e) => {
    if (e.type === 'snapshot') {
      store.current.snapshot((JSON.parse(e.data) as { sensors: SensorTuple[] }).sensors);
      setVersion(store.current.version);
      // For the load-time measurement (bench): the table has its data.
      if (performance.getEntriesByName('edgeflow:first-data').length === 0)
        performance.mark('edgeflow:first-data');
    } else if (e.type === 'sensors') {
      const d = JSON.parse(e.data) as { changed: SensorTuple[] };
      if (store.current.delta(d.changed) > 0) {
        setVersion(store.current.version);
        if (performance.getEntriesByName('edgeflow:live-data').length === 0)
          performance.mark('edgeflow:live-data');
      }
    }
  });

  useEffect(() => {
    const p = new URLSearchParams();
    if (opts.query) p.set('q', opts.query);
    if (opts.quality !== 'all') p.set('quality', opts.quality);
    if (opts.sort !== 'key') p.set('sort', opts.sort);
    if (opts.dir !== 'asc') p.set('dir', opts.dir);
    if (opts.staleSec !== 60) p.set('stale', String(opts.staleSec));
    const qs = p.toString();
    window.history.replaceState(null, '', qs ? `/sensors?${qs}` : '/sensors');
  }, [opts]);

  const now = Date.now() + app.clockOffset();
  const staleAfterMs = opts.staleSec * 1000;
  // The order (keys) is recomputed when it can change: on every change when sorted or filtered
  // by value, age, seq or quality; else only when keys come or go. The visible slice then reads
  // the current rows, so thousands of rows cost a sort only when the order can move.
  const byMembership = orderByMembership(opts);
  const order = useMemo(
    () => view(store.current.rows.values(), { ...opts, now, staleAfterMs }).map((r) => r.key),
    [
      byMembership ? store.current.membership : version,
      opts,
      opts.sort === 'age' || opts.quality !== 'all' ? Math.floor(now / 1000) : 0,
    ],
  );
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setScroll({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    let raf = 0;
    const onScroll = () => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(measure);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener('scroll', onScroll);
      cancelAnimationFrame(raf);
    };
  }, []);

  const first = Math.max(0, Math.floor(scroll.top / ROW) - OVERSCAN);
  const last = Math.min(order.length, Math.ceil((scroll.top + scroll.height) / ROW) + OVERSCAN);
  const visible = order
    .slice(first, last)
    .map((k) => store.current.rows.get(k))
    .filter((r): r is SensorRow => r !== undefined);

  // Sparkline history the agent kept, for rows that became visible (once per key).
  const visibleKeys = visible.map((r) => r.key).join('\n');
  useEffect(() => {
    if (narrow) return;
    const want = visibleKeys
      .split('\n')
      .filter((k) => k && !fetched.current.has(k))
      .slice(0, 100);
    if (want.length === 0) return;
    const t = window.setTimeout(() => {
      for (const k of want) fetched.current.add(k);
      const qs = want.map((k) => `key=${encodeURIComponent(k)}`).join('&');
      api<{ points: Record<string, [number, number][]> }>(`/v1/console/sensors/history?${qs}`)
        .then((r) => {
          for (const [k, pts] of Object.entries(r.points)) store.current.history(k, pts);
          setVersion(store.current.version);
        })
        .catch((err: Error) => setError(err));
    }, 300);
    return () => window.clearTimeout(t);
  }, [visibleKeys, narrow]);

  const columns = narrow ? ALL_COLUMNS.filter((c) => NARROW.has(c.key)) : ALL_COLUMNS;
  const sortBy = (key: SortKey) =>
    setOpts((o) => ({ ...o, sort: key, dir: o.sort === key && o.dir === 'asc' ? 'desc' : 'asc' }));

  return (
    <section aria-labelledby="h-sensors">
      <div class="toolbar">
        <h1 id="h-sensors">Sensors</h1>
        <LiveBadge state={live} />
        <span class="muted" role="status" aria-live="polite" id="sensor-count">
          {formatNumber(store.current.rows.size)} sensors, {formatNumber(order.length)} shown
        </span>
      </div>
      <div class="toolbar">
        <label>
          <span class="visually-hidden">Filter sensors</span>
          <input
            type="search"
            placeholder="Filter by key, source or unit"
            value={opts.query}
            onInput={(e) => setOpts((o) => ({ ...o, query: e.currentTarget.value }))}
          />
        </label>
        <label>
          Quality
          <select
            value={opts.quality}
            onChange={(e) =>
              setOpts((o) => ({ ...o, quality: e.currentTarget.value as QualityFilter }))
            }
          >
            <option value="all">all</option>
            <option value="good">good</option>
            <option value="stale">stale</option>
            <option value="bad">bad</option>
          </select>
        </label>
        <label>
          Stale after
          <select
            value={String(opts.staleSec)}
            onChange={(e) => setOpts((o) => ({ ...o, staleSec: Number(e.currentTarget.value) }))}
          >
            {STALE_CHOICES.map((s) => (
              <option key={s} value={String(s)}>
                {formatAge(s * 1000)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      <div
        class="vscroll"
        ref={box}
        tabIndex={0}
        role="region"
        aria-label="Sensor table, scrollable"
      >
        <table class="sensors" aria-rowcount={order.length + 1}>
          <colgroup>
            {columns.map((c) => (
              <col key={c.key} class={c.cls} />
            ))}
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              {columns.map((c) =>
                c.key === 'spark' ? (
                  <th key={c.key} scope="col">
                    <span class="visually-hidden">{c.label}</span>
                  </th>
                ) : (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={
                      opts.sort === c.key
                        ? opts.dir === 'asc'
                          ? 'ascending'
                          : 'descending'
                        : 'none'
                    }
                  >
                    <button type="button" onClick={() => sortBy(c.key as SortKey)}>
                      {c.label}
                    </button>
                  </th>
                ),
              )}
            </tr>
          </thead>
          <tbody>
            <tr class="spacer" aria-hidden="true">
              <td colSpan={columns.length} style={{ height: `${first * ROW}px` }} />
            </tr>
            {visible.map((r, i) => {
              const stale = isStale(r, now, staleAfterMs);
              return (
                <tr
                  key={r.key}
                  class={`row${stale ? ' stale' : ''}${r.quality === 'bad' ? ' bad' : ''}`}
                  aria-rowindex={first + i + 2}
                  data-key={r.key}
                >
                  {columns.map((c) => {
                    switch (c.key) {
                      case 'key':
                        return (
                          <td key="key" class="mono" title={r.key}>
                            {r.key}
                          </td>
                        );
                      case 'value':
                        return (
                          <td key="value" class="value">
                            {formatValue(r.value, r.unit)}
                          </td>
                        );
                      case 'spark':
                        return (
                          <td key="spark">
                            <Sparkline points={store.current.spark.get(r.key)} />
                          </td>
                        );
                      case 'age':
                        return (
                          <td key="age" class="age">
                            {formatAge(now - r.receivedAt)}
                            {stale ? <span class="visually-hidden"> (stale)</span> : null}
                          </td>
                        );
                      case 'quality':
                        return (
                          <td key="quality" class="quality">
                            {stale && r.quality === 'good' ? 'stale' : r.quality}
                          </td>
                        );
                      case 'source':
                        return (
                          <td key="source" class="mono" title={r.source}>
                            {r.source}
                          </td>
                        );
                      case 'seq':
                        return <td key="seq">{r.seq}</td>;
                    }
                  })}
                </tr>
              );
            })}
            <tr class="spacer" aria-hidden="true">
              <td colSpan={columns.length} style={{ height: `${(order.length - last) * ROW}px` }} />
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}
