import type { DetectedBoard, HalDeps } from '@edgeflow/hal';
import type { AgentClient } from '../agent/agent-http.js';
import type { EdgeflowRunner } from '../agent/edgeflow-cli.js';
import type { Phase } from '../catalog/types.js';
import type { AnchorSummary } from '../evidence/anchors.js';
import type { ExecStatus } from '../evidence/records.js';
import type { MqttLoad } from '../load/mqtt-load.js';
import type { RunPaths } from '../run/checkpoint.js';
import type { Gap, RunOptions, RunState } from '../run/types.js';
import type { Sample } from '../sample/series.js';

/** What a check's collector sees (the live run: agent, processes, files). */
export interface CheckContext {
  readonly opts: RunOptions;
  readonly state: RunState;
  readonly paths: RunPaths;
  readonly phase: Phase;
  readonly agent: AgentClient;
  readonly edgeflow: EdgeflowRunner;
  /** `edgeflow ota …` (args without the leading "ota"). */
  readonly ota: EdgeflowRunner;
  /** The run's time series so far (all segments). */
  readonly series: readonly Sample[];
  /** The QoS 2 load of the current segment (undefined before it starts). */
  readonly load: MqttLoad | undefined;
  /** Board detection (cached for the segment). */
  readonly board: () => Promise<DetectedBoard>;
  /**
   * World access for the HAL that ER-HW-GPIO opens (production defaults when absent; tests pass
   * a SimWorld with or without its jumper).
   */
  readonly halDeps?: HalDeps;
  /** True when the run was interrupted (Ctrl-C): end checks judge the data collected so far. */
  readonly interrupted: boolean;
}

/**
 * What a judge sees: the raw evidence its collector recorded, and the run's evidence recorded
 * before it (from the evidence chain). verify-report builds the same input from the archive.
 */
export interface JudgeInput<R = unknown> {
  readonly raw: R;
  readonly options: RunOptions;
  readonly phase: Phase;
  /** Samples recorded before this execution. */
  readonly samples: readonly Sample[];
  /** TPM anchors recorded before this execution. */
  readonly anchors: readonly AnchorSummary[];
  /** Gaps recorded before this execution. */
  readonly gaps: readonly Gap[];
  /** Archive files a raw record refers to by length and digest (only agent.log). */
  readonly agentLog?: Buffer;
}

/** The result of one execution. */
export interface Outcome {
  readonly status: ExecStatus;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
}

/**
 * A check: `collect` does the I/O (agent calls, processes, /sys) and returns JSON-serialisable
 * raw evidence; `judge` is a pure function of it. The runner records both in the evidence
 * chain; verify-report re-runs `judge` and rejects a report whose result differs.
 */
export interface CheckImpl<R = unknown> {
  readonly collect: (ctx: CheckContext) => Promise<R>;
  readonly judge: (input: JudgeInput<R>) => Outcome;
}

/** Builds a check with its raw type inferred. */
export function check<R>(impl: CheckImpl<R>): CheckImpl<R> {
  return impl;
}

export const pass = (detail: string, evidence: Record<string, unknown> = {}): Outcome => ({
  status: 'pass',
  detail,
  evidence,
});
export const fail = (detail: string, evidence: Record<string, unknown> = {}): Outcome => ({
  status: 'fail',
  detail,
  evidence,
});
export const skip = (detail: string, evidence: Record<string, unknown> = {}): Outcome => ({
  status: 'skip',
  detail,
  evidence,
});
/** Passed, but against a stand-in (simulator, software TPM, scratch root, the repo's unit). */
export const simulated = (detail: string, evidence: Record<string, unknown> = {}): Outcome => ({
  status: 'simulated',
  detail,
  evidence,
});
/** A pass that is downgraded to `simulated` with the reason appended when `why` is set. */
export function passUnless(
  why: string | undefined,
  detail: string,
  evidence: Record<string, unknown> = {},
): Outcome {
  return why === undefined ? pass(detail, evidence) : simulated(`${detail} — ${why}`, evidence);
}

/** Raw evidence of a collector that threw: the judge fails with the message. */
export interface CollectError {
  readonly collectError: string;
}
