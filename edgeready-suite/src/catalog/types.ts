/** Check categories; the ID prefix is `ER-<category>-`. */
export type Category = 'HW' | 'DT' | 'TPM' | 'MQTT' | 'MAP' | 'OTA' | 'SYS' | 'RES';

/** When a check runs: at the start, at every periodic round, at the end (after the load). */
export type Phase = 'start' | 'periodic' | 'end';

/** One entry of the catalog: pure data, rendered by `edgeready list` and into docs/edgeready.md. */
export interface CheckDef {
  /** Stable ID (`ER-MQTT-QOS2-EXACTLY-ONCE`): never reused for another meaning. */
  readonly id: string;
  readonly category: Category;
  readonly title: string;
  /** One-line requirement the device must meet. */
  readonly requirement: string;
  /** What makes the check pass (thresholds named by their option). */
  readonly pass: string;
  /** What the report records as evidence. */
  readonly evidence: string;
  /** Phases in which it runs (stress mode; functional mode runs start and end only). */
  readonly phases: readonly Phase[];
  /** When it is skipped (visibly, with the reason) rather than failed. */
  readonly skipWhen?: string;
}
