/** JSON shapes of the agent's console routes (docs/console.md documents them). */

export interface SeriesInfo {
  readonly name: string;
  readonly label: string;
  readonly unit: string;
}

export interface HistoryWindow {
  /** Time of the first point, ms since the epoch (agent clock). */
  readonly start: number;
  readonly intervalMs: number;
  /** One array per series, `null` where no value was sampled. */
  readonly values: Record<string, (number | null)[]>;
}

export interface OtaSummary {
  readonly current: string | null;
  readonly trial: { readonly version: string; readonly deadlineAt: number | null } | null;
  readonly last: {
    readonly event: string;
    readonly version: string;
    readonly at: string;
    readonly reason?: string;
  } | null;
  readonly error?: string;
}

export interface AttestationSummary {
  readonly state: string;
  readonly detail: string;
  readonly lastCheck: {
    readonly at: number;
    readonly ok: boolean;
    readonly failed: string[];
  } | null;
}

export interface Overview {
  readonly now: number;
  readonly agent: {
    readonly version: string;
    readonly startedAt: number;
    readonly pid: number;
    readonly node: string;
    readonly hostname: string;
  };
  readonly board: { readonly id: string; readonly name: string; readonly matchedBy: string } | null;
  readonly readiness: { readonly ready: boolean; readonly checks: Record<string, boolean> };
  readonly counts: {
    readonly sensors: number;
    readonly mqttClients: number;
    readonly streams: number;
  };
  readonly ota: OtaSummary;
  readonly attestation: AttestationSummary;
  readonly series: readonly SeriesInfo[];
  /** null on refreshes (`?history=0`): the page has it and appends live samples. */
  readonly history: HistoryWindow | null;
}

export interface GpioLine {
  readonly name: string;
  readonly direction: 'input' | 'output';
  readonly source: string;
  readonly value?: 0 | 1;
}

export interface GpioEdge {
  readonly name: string;
  readonly edge: 'rising' | 'falling';
  readonly value: 0 | 1;
  readonly ts: number;
}

export interface GpioState {
  readonly board?: string;
  readonly lines: readonly GpioLine[];
  readonly edges?: readonly GpioEdge[];
}

export interface OtaTrialView {
  readonly version: string;
  readonly from: string | null;
  readonly installedAt: string;
  readonly firstStartAt: string | null;
  readonly probationSec: number;
  readonly deadlineSec: number;
  readonly starts: number;
}

export interface OtaHistoryEntry {
  readonly at: string;
  readonly event: string;
  readonly version: string;
  readonly from?: string | null;
  readonly reason?: string;
}

export interface OtaView {
  readonly now: number;
  readonly root: string;
  readonly managed: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly current: string | null;
  readonly previous: string | null;
  readonly trial: OtaTrialView | null;
  readonly history: readonly OtaHistoryEntry[];
  readonly report: {
    readonly version: string;
    readonly readyAt: string | null;
    readonly healthySince: string | null;
    readonly committedAt: string | null;
    readonly failure: string | null;
  } | null;
  /** When the trial is rolled back if not committed (ms, agent clock). */
  readonly deadlineAt: number | null;
  /** When the probation window ends if health holds (ms), null before READY/health. */
  readonly commitAt: number | null;
  readonly canCommit: boolean;
  readonly canRollback: boolean;
}

export interface CheckStep {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

export interface PolicyRow {
  readonly pcr: number;
  readonly expected: string | null;
  readonly actual: string | null;
  readonly match: boolean | null;
}

export interface AttestationView {
  readonly status: { readonly state: string; readonly detail: string };
  readonly identity: {
    readonly ekType: string;
    readonly ekSha256: string;
    readonly ekCertificate: boolean;
    readonly akName: string;
    readonly akHandle: string;
  } | null;
  readonly check: {
    readonly at: number;
    readonly ok: boolean;
    readonly enrolment: string;
    readonly bank: string;
    readonly steps: readonly CheckStep[];
    readonly pcrs: Record<string, string>;
    readonly policy: { readonly source: string | null; readonly rows: readonly PolicyRow[] };
  } | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ReportVerification {
  readonly ok: boolean;
  readonly erId: string | null;
  readonly verdict: string | null;
  readonly steps: readonly CheckStep[];
  readonly rejected?: { readonly code: string; readonly message: string };
  readonly enrolment: { readonly source: string; readonly ekSha256: string | null };
}
