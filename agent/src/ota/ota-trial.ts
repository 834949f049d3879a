import { join } from 'node:path';
import { NO_TRIAL, otaOnAgentStart, type AgentTrial, type TrialVerdict } from '@edgeflow/ota';
import type { Logger } from 'pino';

export interface OtaTrialOptions {
  /** OTA root (releases, state): `ota.root`. */
  root: string;
  /** The agent's data dir: the trial report lives there (the one place the agent may write). */
  dataDir: string;
  healthIntervalMs: number;
}

export interface OtaTrialDeps {
  log: Logger;
  now: () => number;
  /** Health as the trial judges it: listeners up, cache restored, ingest alive. */
  healthy: () => { ok: boolean; detail: string };
  /** The trial failed: the agent must exit non-zero so that the next start rolls back. */
  onRollback: (reason: string) => void;
}

/** What the agent reported about its trial so far (the console's Updates page shows it). */
export type TrialReport = NonNullable<ReturnType<AgentTrial['report']>>;

/**
 * The agent's side of an OTA trial: when the running release is on trial, report READY and
 * health until the probation window commits it, or report the failure and exit so that the
 * root-side hook rolls back on the next start. The agent itself never switches releases.
 */
export class OtaTrial {
  readonly #trial: AgentTrial;
  readonly #deps: OtaTrialDeps;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  private constructor(trial: AgentTrial, intervalMs: number, deps: OtaTrialDeps) {
    this.#trial = trial;
    this.#intervalMs = intervalMs;
    this.#deps = deps;
  }

  static async open(opts: OtaTrialOptions, deps: OtaTrialDeps): Promise<OtaTrial> {
    let trial: AgentTrial;
    try {
      trial = await otaOnAgentStart({
        root: opts.root,
        reportFile: join(opts.dataDir, 'ota-trial.json'),
        now: deps.now,
      });
    } catch (err) {
      // An unreadable OTA state must not stop the agent: without a report the root-side hook
      // rolls a trial back at its deadline, which is the safe outcome.
      deps.log.error({ event: 'ota.state_unreadable', err }, 'OTA state unreadable');
      trial = NO_TRIAL;
    }
    if (trial.inTrial) {
      deps.log.info(
        { event: 'ota.trial', version: trial.version, probationMs: trial.probationMs },
        'running a release on trial',
      );
    }
    return new OtaTrial(trial, opts.healthIntervalMs, deps);
  }

  get inTrial(): boolean {
    return this.#trial.inTrial;
  }

  /** Version on trial and what was reported (undefined outside a trial). */
  get report(): TrialReport | undefined {
    return this.#trial.report();
  }

  /**
   * An operator commits the trial now (the console, with the API token). Returns the verdict:
   * 'committed', or 'trial' before READY, or the earlier decision.
   */
  async commit(): Promise<TrialVerdict> {
    const v = await this.#trial.commitNow();
    this.#act(v, 'committed by an operator');
    return v;
  }

  /**
   * An operator rejects the trial: the failure is reported (on disk) before this returns, then
   * the agent exits non-zero on the next turn of the event loop so the caller can answer first;
   * the next start rolls back.
   */
  async reject(reason: string): Promise<TrialVerdict> {
    const v = await this.#trial.rejectNow(reason);
    if (v === 'rollback' && !this.#done) setImmediate(() => this.#act(v, reason));
    return v;
  }

  /** Call right after READY=1. */
  async ready(): Promise<void> {
    if (!this.#trial.inTrial) return;
    this.#act(await this.#trial.onReady(), 'ready');
    if (this.#done) return;
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const h = this.#deps.healthy();
    try {
      this.#act(await this.#trial.onHealth(h.ok, h.detail), h.detail);
    } catch (err) {
      this.#deps.log.error({ event: 'ota.report_failed', err }, 'could not write the trial report');
    }
  }

  #act(verdict: TrialVerdict, detail: string): void {
    if (verdict === 'committed') {
      this.#deps.log.info(
        { event: 'ota.committed', version: this.#trial.version },
        'release committed',
      );
      this.stop();
    } else if (verdict === 'rollback') {
      this.#deps.log.error(
        { event: 'ota.trial_failed', version: this.#trial.version, detail },
        'release trial failed; exiting so that the previous release is restored',
      );
      this.stop();
      this.#deps.onRollback(detail);
    }
  }

  stop(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
