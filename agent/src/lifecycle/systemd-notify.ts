import { createRequire } from 'node:module';

/** The sd_notify(3) messages the agent sends. A no-op when not started by systemd. */
export interface SystemdNotifier {
  /** True when NOTIFY_SOCKET is set and the notify addon is loaded. */
  readonly active: boolean;
  ready(): void;
  stopping(): void;
  watchdog(): void;
  status(text: string): void;
}

/** The subset of the `sd-notify` addon we use. */
export interface NotifyAddon {
  ready(): void;
  stopping(pid: number): void;
  watchdog(): void;
  sendStatus(text: string): void;
}

export function loadNotifyAddon(): NotifyAddon {
  const require = createRequire(import.meta.url);
  return require('sd-notify') as NotifyAddon;
}

const noop: SystemdNotifier = {
  active: false,
  ready() {},
  stopping() {},
  watchdog() {},
  status() {},
};

export interface NotifierDeps {
  env: NodeJS.ProcessEnv;
  pid: number;
  loadAddon?: () => NotifyAddon;
  /** Told once when NOTIFY_SOCKET is set but the addon cannot load. */
  onUnavailable?: (reason: string) => void;
}

/**
 * Talks to systemd through the `sd-notify` addon, which sends from the main PID (the
 * `systemd-notify` CLI reports its own PID and is refused under NotifyAccess=main).
 */
export function createSystemdNotifier(deps: NotifierDeps): SystemdNotifier {
  if (!deps.env.NOTIFY_SOCKET) return noop;
  let addon: NotifyAddon;
  try {
    addon = (deps.loadAddon ?? loadNotifyAddon)();
  } catch (err) {
    deps.onUnavailable?.(
      `NOTIFY_SOCKET is set but the sd-notify addon did not load (${(err as Error).message}); ` +
        'install libsystemd-dev and run npm ci',
    );
    return noop;
  }
  return {
    active: true,
    ready: () => addon.ready(),
    stopping: () => addon.stopping(deps.pid),
    watchdog: () => addon.watchdog(),
    status: (text) => addon.sendStatus(text),
  };
}

/**
 * The watchdog ping interval: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, or
 * undefined when the watchdog is off or meant for another process (WATCHDOG_PID).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
