import { formatAge } from '../../lib/format.js';
import type { QualityFilter } from '../../lib/sensors.js';

const STALE_CHOICES = [10, 30, 60, 300, 900, 3600];

export interface Filters {
  readonly query: string;
  readonly quality: QualityFilter;
  readonly staleSec: number;
}

/** Filter words, quality, and the age past which a reading counts as stale. */
export function SensorToolbar({ f, set }: { f: Filters; set: (change: Partial<Filters>) => void }) {
  return (
    <div class="toolbar">
      <label>
        <span class="visually-hidden">Filter sensors</span>
        <input
          type="search"
          placeholder="Filter by key, source or unit"
          value={f.query}
          onInput={(e) => set({ query: e.currentTarget.value })}
        />
      </label>
      <label>
        Quality
        <select
          value={f.quality}
          onChange={(e) => set({ quality: e.currentTarget.value as QualityFilter })}
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
          value={String(f.staleSec)}
          onChange={(e) => set({ staleSec: Number(e.currentTarget.value) })}
        >
          {STALE_CHOICES.map((s) => (
            <option key={s} value={String(s)}>
              {formatAge(s * 1000)}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
