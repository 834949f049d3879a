import { useEffect, useRef } from 'preact/hooks';
import { formatAge, formatValue } from '../../lib/format.js';
import {
  isStale,
  type SensorRow,
  type SensorStore,
  type SortDir,
  type SortKey,
} from '../../lib/sensors.js';
import { Sparkline } from '../sparkline.js';
import type { Column } from './columns.js';
import { ROW, useVirtualWindow } from './hooks.js';

interface TableProps {
  readonly store: SensorStore;
  /** Keys in display order (filtered and sorted). */
  readonly order: readonly string[];
  readonly columns: readonly Column[];
  readonly sort: SortKey;
  readonly dir: SortDir;
  readonly onSort: (key: SortKey) => void;
  /** Agent clock now, and the age past which a reading is stale. */
  readonly now: number;
  readonly staleAfterMs: number;
  /** The keys on screen, for the sparkline history. */
  readonly onVisible: (keys: readonly string[]) => void;
}

function Cell({
  c,
  r,
  now,
  stale,
  store,
}: {
  c: Column;
  r: SensorRow;
  now: number;
  stale: boolean;
  store: SensorStore;
}) {
  switch (c.key) {
    case 'key':
      return (
        <td class="mono" title={r.key}>
          {r.key}
        </td>
      );
    case 'value':
      return <td class="value">{formatValue(r.value, r.unit)}</td>;
    case 'spark':
      return (
        <td>
          <Sparkline points={store.spark.get(r.key)} />
        </td>
      );
    case 'age':
      return (
        <td class="age">
          {formatAge(now - r.receivedAt)}
          {stale ? <span class="visually-hidden"> (stale)</span> : null}
        </td>
      );
    case 'quality':
      return <td class="quality">{stale && r.quality === 'good' ? 'stale' : r.quality}</td>;
    case 'source':
      return (
        <td class="mono" title={r.source}>
          {r.source}
        </td>
      );
    case 'seq':
      return <td>{r.seq}</td>;
  }
}

function Header({
  columns,
  sort,
  dir,
  onSort,
}: Pick<TableProps, 'columns' | 'sort' | 'dir' | 'onSort'>) {
  return (
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
              aria-sort={sort === c.key ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}
            >
              <button type="button" onClick={() => onSort(c.key as SortKey)}>
                {c.label}
              </button>
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/**
 * The virtualised table: only the rows on screen (plus a margin) are in the DOM, between two
 * spacer rows that keep the scroll height; the scroll box is focusable so the keyboard scrolls
 * it, and rows carry aria-rowindex of the whole table.
 */
export function SensorTable(p: TableProps) {
  const box = useRef<HTMLDivElement>(null);
  const { first, last } = useVirtualWindow(box, p.order.length);
  const visible = p.order
    .slice(first, last)
    .map((k) => p.store.rows.get(k))
    .filter((r): r is SensorRow => r !== undefined);
  const shown = visible.map((r) => r.key).join('\n');
  const { onVisible } = p;
  useEffect(() => onVisible(shown.split('\n').filter(Boolean)), [shown, onVisible]);
  return (
    <div class="vscroll" ref={box} tabIndex={0} role="region" aria-label="Sensor table, scrollable">
      <table class="sensors" aria-rowcount={p.order.length + 1}>
        <colgroup>
          {p.columns.map((c) => (
            <col key={c.key} class={c.cls} />
          ))}
        </colgroup>
        <Header columns={p.columns} sort={p.sort} dir={p.dir} onSort={p.onSort} />
        <tbody>
          <tr class="spacer" aria-hidden="true">
            <td colSpan={p.columns.length} style={{ height: `${first * ROW}px` }} />
          </tr>
          {visible.map((r, i) => {
            const stale = isStale(r, p.now, p.staleAfterMs);
            return (
              <tr
                key={r.key}
                class={`row${stale ? ' stale' : ''}${r.quality === 'bad' ? ' bad' : ''}`}
                aria-rowindex={first + i + 2}
                data-key={r.key}
              >
                {p.columns.map((c) => (
                  <Cell key={c.key} c={c} r={r} now={p.now} stale={stale} store={p.store} />
                ))}
              </tr>
            );
          })}
          <tr class="spacer" aria-hidden="true">
            <td
              colSpan={p.columns.length}
              style={{ height: `${(p.order.length - last) * ROW}px` }}
            />
          </tr>
        </tbody>
      </table>
    </div>
  );
}
