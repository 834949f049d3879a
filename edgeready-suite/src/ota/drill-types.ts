import type { ServingProbe } from '../agent/serving.js';

/** A state history entry as `edgeflow ota status --json` prints it (docs/ota.md). */
export interface HistoryEntry {
  readonly at: string;
  readonly event: string;
  readonly version: string;
  readonly from?: string | null;
  readonly reason?: string;
}

/** `edgeflow ota status --json`, the parts the drill reads. */
export interface OtaStatus {
  readonly current: string | null;
  readonly previous: string | null;
  readonly trial: { readonly version: string; readonly starts: number } | null;
  readonly history: readonly HistoryEntry[];
}

/** One OTA tool invocation of a drill, as evidence. */
export interface DrillStep {
  readonly cmd: string;
  readonly code: number | null;
  readonly ms: number;
  /** The end of stdout (stderr when it failed), bounded. */
  readonly out: string;
}

/** Raw evidence of the scratch-root drill (no systemd, the agent under test not involved). */
export interface ScratchDrillRaw {
  readonly mode: 'scratch';
  readonly board: string;
  readonly steps: Record<string, unknown>[];
  readonly rollback: { action: string; to: string | null } | null;
  readonly rollbackSec: number | null;
  readonly end: { current: string | null; trial: string | null } | null;
  readonly history: readonly HistoryEntry[];
  readonly error: string | null;
  /** Why the real drill did not run (absent in reports of earlier suite builds). */
  readonly standIn?: string;
}

/** The device as the drill saw it at one moment. */
export interface DeviceView {
  readonly current: string | null;
  readonly previous: string | null;
  readonly trial: string | null;
  /** Where `/opt/edgeflow/current` points. */
  readonly link: string | null;
  readonly serving: ServingProbe;
}

/** How an installed drill release ended. */
export type TrialOutcome = 'committed' | 'rolled-back' | 'on-trial' | 'install-failed';

/** One drill release: installed under systemd, its trial watched to its end. */
export interface TrialRun {
  readonly role: 'good' | 'bad';
  readonly version: string;
  /** Wall-clock ms: the install command started / returned (restart into the trial queued). */
  readonly installStartedAt: number;
  readonly installedAt: number | null;
  readonly outcome: TrialOutcome;
  /** When the drill saw the outcome in the state history. */
  readonly outcomeSeenAt: number | null;
  /** The history entry's reason (a rollback's cause), or the install's error. */
  readonly reason: string | null;
  /** The release the agent must serve from after this trial. */
  readonly expect: string | null;
  /** First probe with the unit's main process serving on `expect`, else the last probe. */
  readonly serving: ServingProbe | null;
  readonly servingAt: number | null;
}

/** Raw evidence of the real drill: the agent under test updated and rolled back as a unit. */
export interface SystemdDrillRaw {
  readonly mode: 'systemd';
  readonly unit: string;
  readonly url: string;
  readonly tool: string;
  /** `key`: the suite re-signed the running release; `bundles`: the operator's pair. */
  readonly source: 'key' | 'bundles';
  readonly probationSec: number;
  readonly startedAt: number;
  readonly before: DeviceView | null;
  readonly good: TrialRun | null;
  readonly bad: TrialRun | null;
  readonly after: DeviceView | null;
  /** State history entries written during the drill. */
  readonly history: readonly HistoryEntry[];
  /** The unit's journal during the drill: systemd's lines, the OTA hooks, agent starts/stops. */
  readonly journal: readonly string[];
  readonly steps: readonly DrillStep[];
  /** What the suite did to bring the device back (a release left on trial or committed). */
  readonly cleanup: readonly string[];
  readonly error: string | null;
}

/** Raw evidence of ER-OTA-DRILL. */
export type DrillRaw = ScratchDrillRaw | SystemdDrillRaw;
