import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { Logger } from 'pino';

/** Install steps at which `checkpoint` is called (tests SIGKILL the installer there). */
export const INSTALL_STEPS = [
  'downloaded',
  'verified',
  'mid-extract',
  'extracted',
  'released',
  'snapshotted',
  'switching',
  'switched',
  'state-written',
] as const;
export type InstallStep = (typeof INSTALL_STEPS)[number];

/** What the outside world provides to the OTA operations; production defaults in `defaultDeps`. */
export interface OtaDeps {
  /** Wall clock. */
  now(): Date;
  /** Bytes available to this process on the filesystem holding `path`. */
  freeBytes(path: string): Promise<number>;
  /** Restarts (or starts after a failure) the agent service. */
  restartService(): Promise<void>;
  /** Called when an install reaches `step`. */
  checkpoint(step: InstallStep): Promise<void>;
  readonly log: Logger;
}

const run = promisify(execFile);

/** The systemd unit the OTA code restarts. */
export const AGENT_UNIT = 'edgeflow-agent.service';

export function defaultDeps(overrides: Partial<OtaDeps> = {}): OtaDeps {
  return {
    now: () => new Date(),
    async freeBytes(path) {
      const s = await statfs(path);
      return s.bavail * s.bsize;
    },
    async restartService() {
      // reset-failed first: after OnFailure the unit may sit in "failed" with its start limit hit.
      await run('systemctl', ['reset-failed', AGENT_UNIT]).catch(() => undefined);
      await run('systemctl', ['restart', '--no-block', AGENT_UNIT]);
    },
    async checkpoint() {},
    log: pino({ base: { component: 'ota' } }, pino.destination(2)),
    ...overrides,
  };
}

/**
 * Test hook: with EDGEFLOW_OTA_TEST_KILL_AT=<step> the installer SIGKILLs itself at that step,
 * which is how the power-loss tests stop it at an exact point without timing games.
 */
export function killAtFromEnv(env: NodeJS.ProcessEnv): OtaDeps['checkpoint'] {
  const at = env.EDGEFLOW_OTA_TEST_KILL_AT;
  return async (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
    await Promise.resolve();
  };
}
