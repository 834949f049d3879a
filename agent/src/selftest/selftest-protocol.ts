// What the shared-map self-test and its workers share (no code runs on import).
import type { RecordLayout } from '@edgeflow/sharded-map';

/** The control words the probe writer and reader share. */
export const C = { inWrite: 0, returnedInside: 1, attempts: 2, readDone: 3, round: 4, writers: 5 };

export interface Job {
  readonly buffer: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly layout: RecordLayout;
  readonly prefix: string;
  readonly task: 'disjoint' | 'cas' | 'reader' | 'probe-writer' | 'probe-reader';
  readonly id: number;
  readonly n: number;
  readonly keys: number;
  readonly writers: number;
  readonly holdMs: number;
  /** Test hook: a module exporting another map implementation (the negative test's). */
  readonly mapModule?: string;
}
