import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorNote, LiveBadge, useStream, useTicker } from '../components/hooks.js';
import { ALL_COLUMNS, columnsFor } from '../components/sensors/columns.js';
import { useNarrow, useSparkHistory } from '../components/sensors/hooks.js';
import { SensorTable } from '../components/sensors/table.js';
import { SensorToolbar, type Filters } from '../components/sensors/toolbar.js';
import { formatNumber } from '../lib/format.js';
import {
  SensorStore,
  orderByMembership,
  view,
  type QualityFilter,
  type SensorTuple,
  type SortDir,
  type SortKey,
} from '../lib/sensors.js';
import { useApp } from '../app-context.js';

interface Options extends Filters {
  readonly sort: SortKey;
  readonly dir: SortDir;
}

/** The page's state from its URL (deep links: `/sensors?q=temp&sort=age&quality=stale`). */
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

function writeParams(o: Options): void {
  const p = new URLSearchParams();
  if (o.query) p.set('q', o.query);
  if (o.quality !== 'all') p.set('quality', o.quality);
  if (o.sort !== 'key') p.set('sort', o.sort);
  if (o.dir !== 'asc') p.set('dir', o.dir);
  if (o.staleSec !== 60) p.set('stale', String(o.staleSec));
  const qs = p.toString();
  window.history.replaceState(null, '', qs ? `/sensors?${qs}` : '/sensors');
}

/** First occurrence only: marks for the load-time measurement (bench). */
function markOnce(name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}

/** The cache as a live table: virtualised rows, sortable columns, a filter, stale marking. */
export function Sensors() {
  const app = useApp();
  const store = useRef(new SensorStore()).current;
  const [version, setVersion] = useState(0);
  const [opts, setOpts] = useState(readParams);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [visibleKeys, setVisibleKeys] = useState<readonly string[]>([]);
  // The agent's snapshot holds the first 5,000 sensors by key; the rest come as they change.
  const [agentTotal, setAgentTotal] = useState<number | undefined>(undefined);
  const narrow = useNarrow();
  useTicker(1000);
  useEffect(() => writeParams(opts), [opts]);

  const live = useStream(['sensors'], (e) => {
    if (e.type === 'snapshot') {
      const snap = JSON.parse(e.data) as {
        sensors: SensorTuple[];
        total?: number;
        truncated?: boolean;
      };
      store.snapshot(snap.sensors);
      setAgentTotal(snap.truncated === true ? snap.total : undefined);
      setVersion(store.version);
      markOnce('edgeflow:first-data');
    } else if (
      e.type === 'sensors' &&
      store.delta((JSON.parse(e.data) as { changed: SensorTuple[] }).changed) > 0
    ) {
      setVersion(store.version);
      markOnce('edgeflow:live-data');
    }
  });

  const now = Date.now() + app.clockOffset();
  const staleAfterMs = opts.staleSec * 1000;
  // The order (keys) is recomputed when it can change: on every change when sorted or filtered
  // by value, age, seq or quality; else only when keys come or go. The table then reads the
  // visible rows fresh, so thousands of rows cost a sort only when the order can move.
  const order = useMemo(
    () => view(store.rows.values(), { ...opts, now, staleAfterMs }).map((r) => r.key),
    [
      orderByMembership(opts) ? store.membership : version,
      opts,
      opts.sort === 'age' || opts.quality !== 'all' ? Math.floor(now / 1000) : 0,
    ],
  );
  useSparkHistory(store, visibleKeys, !narrow, () => setVersion(store.version), setError);
  const onVisible = useCallback((keys: readonly string[]) => {
    setVisibleKeys((old) => (old.join('\n') === keys.join('\n') ? old : keys));
  }, []);

  return (
    <section aria-labelledby="h-sensors">
      <div class="toolbar">
        <h1 id="h-sensors">Sensors</h1>
        <LiveBadge state={live} />
        <span class="muted" role="status" aria-live="polite" id="sensor-count">
          {formatNumber(store.rows.size)} sensors, {formatNumber(order.length)} shown
          {agentTotal !== undefined && store.rows.size < agentTotal
            ? ` (the agent holds ${formatNumber(agentTotal)}: the others appear as they change; GET /v1/sensors pages through all)`
            : ''}
        </span>
      </div>
      <SensorToolbar f={opts} set={(change) => setOpts((o) => ({ ...o, ...change }))} />
      <ErrorNote error={error} />
      <SensorTable
        store={store}
        order={order}
        columns={columnsFor(narrow)}
        sort={opts.sort}
        dir={opts.dir}
        onSort={(key) =>
          setOpts((o) => ({
            ...o,
            sort: key,
            dir: o.sort === key && o.dir === 'asc' ? 'desc' : 'asc',
          }))
        }
        now={now}
        staleAfterMs={staleAfterMs}
        onVisible={onVisible}
      />
    </section>
  );
}
