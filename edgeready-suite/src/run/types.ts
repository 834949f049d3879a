import type { UnitState } from '../agent/systemd-unit.js';
import type { Phase } from '../catalog/types.js';
import type { ExecStatus } from '../evidence/records.js';
import type { KeyCounters } from '../load/mqtt-load.js';
import type { RouteStats } from '../load/http-load.js';

/** Everything `edgeready run` was asked to do (kept in the checkpoint; resume reuses it). */
export interface RunOptions {
  readonly mode: 'functional' | 'stress';
  /** Active time the load runs, ms (gaps excluded). */
  readonly durationMs: number;
  /** Periodic functional rounds every … ms of active time. */
  readonly intervalMs: number;
  /** Time-series sample period, ms. */
  readonly sampleMs: number;
  readonly outDir: string;
  /** auto | sim | a profile id. */
  readonly board: string;
  /** Host root for board detection, /sys and /proc (tests use fixtures). */
  readonly root: string;
  /** External agent; undefined = the suite starts its own. */
  readonly agentUrl?: string;
  readonly mqttUrl?: string;
  /**
   * File holding an API token the agent grants quotes (attestation.access.apiTokens): needed
   * with --agent-url or --agent-config; the suite's generated config uses its own token.
   */
  readonly agentTokenFile?: string;
  /** Config file for the suite's own agent (generated when absent). */
  readonly agentConfig?: string;
  /** TPM for the suite's own agent (`swtpm:host=…,port=…`). */
  readonly tcti?: string;
  /** The agent's data directory (fsync and disk checks). */
  readonly dataDir: string;
  readonly edgeflowCli: string;
  readonly rate: number;
  readonly publishers: number;
  readonly keysPerPublisher: number;
  readonly maxInflight: number;
  readonly p99LimitMs: number;
  readonly fsyncP99LimitMs: number;
  readonly hardeningMax: number;
  readonly otaRollbackLimitSec: number;
  /**
   * ER-OTA-DRILL under systemd: an Ed25519 key the device trusts, to re-sign the running
   * release as the drill's good and failing bundles; or the operator's own pair (GOOD, BAD).
   */
  readonly otaDrillKey?: string;
  readonly otaDrillBundle?: string;
  readonly otaDrillBad?: string;
  /** Probation of the drill's good release, s (default 30). */
  readonly otaDrillProbationSec?: number;
  readonly maxGapRatio: number;
  readonly gpioLoopback: readonly { readonly out: string; readonly in: string }[];
  readonly enrolment?: string;
  readonly unitFile?: string;
  readonly journalUnit: string;
  readonly halPrefix: string;
  readonly pcrs: readonly number[];
  /** PEM bundle of EK CA certificates; without it the TPM's identity is only `simulated`. */
  readonly ekRoots?: string;
  /** Longest time without a PUBCOMP while messages are in flight, ms (ER-MQTT-THROUGHPUT). */
  readonly stallLimitMs?: number;
  /** Post-warm-up observation a trend needs before it may pass, ms (ER-RES-*). */
  readonly trendMinMs?: number;
  /** Accepted shortfall of the TPM clock against the active time (ER-SYS-CONTINUITY). */
  readonly clockTolerance?: number;
  /** MQTT user for the suite's publishers (the password is read from mqttPasswordFile). */
  readonly mqttUsername?: string;
  readonly mqttPasswordFile?: string;
}

/** One execution of a check. */
export interface Execution {
  readonly phase: Phase;
  readonly at: string;
  /** Active time of the run, ms. */
  readonly activeMs: number;
  readonly status: ExecStatus;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
}

/** An interruption of the run, recorded as evidence. */
export interface Gap {
  readonly from: string;
  readonly to: string;
  readonly seconds: number;
  readonly cause: 'reboot' | 'crash' | 'stopped';
  readonly detail: string;
}

/** One uninterrupted stretch of the run (a start or a resume). */
export interface Segment {
  readonly index: number;
  readonly startedAt: string;
  endedAt?: string;
  /**
   * How its load ended: `drained` (every in-flight PUBCOMP came back), `stalled` (the suite
   * stopped the load and messages stayed unacknowledged), `cut` (the suite itself stopped:
   * crash, reboot, kill); undefined while it runs.
   */
  end?: 'drained' | 'stalled' | 'cut';
  readonly devicePrefix: string;
  /** Per key, as of the last checkpoint. */
  keys: Record<string, KeyCounters>;
  published: number;
  acked: number;
  errors: number;
  backpressure: number;
}

/** The checkpoint: everything needed to resume and to write the report. */
export interface RunState {
  readonly version: 2;
  readonly runId: string;
  readonly suiteVersion: string;
  readonly options: RunOptions;
  status: 'running' | 'interrupted' | 'finished' | 'failed';
  /** Why the run could not go on (start-up failure), recorded in the report. */
  failure?: { code: string; message: string };
  readonly createdAt: string;
  activeMs: number;
  lastCheckpointAt: string;
  bootId: string;
  pid: number;
  startDone: boolean;
  lastPeriodicMs: number;
  rounds: number;
  segments: Segment[];
  gaps: Gap[];
  agent: {
    url: string;
    mqttUrl: string;
    own: { pid: number; httpPort: number; mqttPort: number; bootId: string } | null;
    starts: number;
    logFrom: string;
    /** systemd's view of --journal-unit at this segment's start (agents the suite did not start). */
    unit: UnitState | { error: string } | null;
    /** PID serving the agent URL (from /proc), when visible. */
    pid: number | null;
  };
  identity: {
    boardId: string;
    ekPublic: string | null;
    erId: string | null;
    tpmUnavailable?: string;
  } | null;
  enrolmentFile: string | null;
  latency: { counts: number[]; max: number };
  cacheLatency: { counts: number[]; max: number };
  http: Record<string, RouteStats>;
  throttleStart: Record<string, number> | null;
  /** Active time of the last periodic TPM anchor, ms. */
  lastAnchorMs: number;
  /** Last seq seen per HAL sensor key (ER-HW-SENSORS: must advance between rounds). */
  sensorSeq: Record<string, number>;
  finishedAt?: string;
}
