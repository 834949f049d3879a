import type { QuoteResponse } from 'node-tpm2';
import type { Phase } from '../catalog/types.js';
import type { Gap, RunOptions } from '../run/types.js';
import type { Sample } from '../sample/series.js';

/** Status of one check execution. `simulated`: passed, but against a stand-in (see detail). */
export type ExecStatus = 'pass' | 'fail' | 'skip' | 'simulated';

/** First record: what the run was asked to do, and the certifier's challenge. */
export interface RunRecord {
  readonly k: 'run';
  readonly runId: string;
  readonly suiteVersion: string;
  readonly createdAt: string;
  readonly options: RunOptions;
  /** Hex nonce from whoever orders the certification (--challenge), or null. */
  readonly challenge: string | null;
}

/** A segment starts (first start or resume), with the agent it talks to. */
export interface SegmentRecord {
  readonly k: 'segment';
  readonly seg: number;
  readonly at: string;
  readonly bootId: string;
  readonly agent: { readonly url: string; readonly own: boolean; readonly pid: number | null };
}

/** One time-series sample (also written to timeseries.jsonl for plotting). */
export interface SampleRecord {
  readonly k: 'sample';
  readonly s: Sample;
}

/**
 * One execution of a check: the raw evidence it collected, and what its judge made of it.
 * verify-report runs the same judge on `raw` and must get the same status, detail, evidence.
 */
export interface ExecRecord {
  readonly k: 'exec';
  readonly id: string;
  readonly phase: Phase;
  readonly at: string;
  /** Active run time, ms. */
  readonly a: number;
  readonly seg: number;
  readonly raw: unknown;
  readonly status: ExecStatus;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
}

/** An interruption, recorded when the run resumes. */
export interface GapRecord {
  readonly k: 'gap';
  readonly gap: Gap;
}

/** A TPM quote whose nonce is derived from the chain head before it (anchors.ts). */
export interface AnchorRecord {
  readonly k: 'anchor';
  /** Why it was taken: first (binds the challenge), segment start, periodic, load end, final. */
  readonly why: 'first' | 'segment' | 'periodic' | 'load-end' | 'final';
  readonly at: string;
  readonly a: number;
  readonly seg: number;
  /** Hash of the record before this one = what the quote's nonce commits to. */
  readonly head: string;
  readonly nonce: string;
  readonly request: { readonly bank: string; readonly pcrs: readonly number[] };
  /** The quote, or why there is none (no TPM, agent refused). */
  readonly response: QuoteResponse | null;
  readonly failed?: string;
}

/** The run ended (report written next). */
export interface EndRecord {
  readonly k: 'end';
  readonly at: string;
  readonly status: 'finished' | 'interrupted' | 'failed';
  /** The error code of a failed run. */
  readonly code?: string;
  readonly detail: string;
}

export type EvidenceRecord =
  RunRecord | SegmentRecord | SampleRecord | ExecRecord | GapRecord | AnchorRecord | EndRecord;
