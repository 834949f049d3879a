/** A sensor value as it enters the cache (before the cache numbers it). */
export interface ReadingInput {
  value: number | string | boolean;
  /** Unit (SenML / UCUM symbol such as `Cel`), or null when the source gave none. */
  unit: string | null;
  /** Measurement time, ms since the epoch (the receive time when the source gave none). */
  ts: number;
  /** Where it came from: `mqtt:<clientId>`, `hal:<driver>`, ... */
  source: string;
  quality: 'good' | 'stale' | 'bad';
}

/** The latest state of one sensor, as served by the API. */
export interface Reading extends ReadingInput {
  /** `<device>/<sensor>` */
  key: string;
  /**
   * Number of readings applied for this key since it was first seen: loss or duplication is
   * visible from outside by comparing it with what was sent.
   */
  seq: number;
  /** When the agent applied it, ms since the epoch. */
  receivedAt: number;
}
