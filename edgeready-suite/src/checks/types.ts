import type { DetectedBoard, HalDeps } from '@edgeflow/hal';
import type { AgentClient } from '../agent/agent-http.js';
import type { EdgeflowRunner } from '../agent/edgeflow-cli.js';
import type { Phase } from '../catalog/types.js';
import type { MqttLoad } from '../load/mqtt-load.js';
import type { RunPaths } from '../run/checkpoint.js';
import type { RunOptions, RunState } from '../run/types.js';
import type { Sample } from '../sample/series.js';

/** What a check sees. */
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

/** The result of one execution. */
export interface Outcome {
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
}

/** A check implementation. It returns fail rather than throw for a device problem. */
export type CheckImpl = (ctx: CheckContext) => Promise<Outcome>;

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
