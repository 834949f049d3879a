import type { SortKey } from '../../lib/sensors.js';

export interface Column {
  readonly key: SortKey | 'spark';
  readonly label: string;
  readonly cls: string;
}

export const ALL_COLUMNS: readonly Column[] = [
  { key: 'key', label: 'Sensor', cls: 'c-key' },
  { key: 'value', label: 'Value', cls: 'c-value' },
  { key: 'spark', label: 'Recent', cls: 'c-spark' },
  { key: 'age', label: 'Age', cls: 'c-age' },
  { key: 'quality', label: 'Quality', cls: 'c-quality' },
  { key: 'source', label: 'Source', cls: 'c-source' },
  { key: 'seq', label: 'Seq', cls: 'c-seq' },
];

/** On a phone: key, value and age. */
const NARROW = new Set<Column['key']>(['key', 'value', 'age']);

export const columnsFor = (narrow: boolean): readonly Column[] =>
  narrow ? ALL_COLUMNS.filter((c) => NARROW.has(c.key)) : ALL_COLUMNS;
