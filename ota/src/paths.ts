import { join, resolve } from 'node:path';

/** Every path the OTA code touches, derived from a configurable root so tests use a temp dir. */
export interface OtaPaths {
  readonly root: string;
  readonly releases: string;
  /** Symlink to `releases/<version>`; what the service runs (`<root>/current/...`). */
  readonly current: string;
  readonly staging: string;
  readonly downloads: string;
  readonly snapshots: string;
  readonly stateDir: string;
  readonly stateFile: string;
  readonly lockFile: string;
  /** Outcome of the last OTA install request (root writes, the agent reads). */
  readonly requestResultFile: string;
  /** Serialises request runs (a path unit and a manual run must not both handle one request). */
  readonly requestLockFile: string;
  /** Written by the agent (unprivileged) to report READY/health/commit of a trial. */
  readonly reportFile: string;
  /** Snapshotted before a switch and restored on rollback. */
  readonly configDir: string;
  readonly cacheDir: string;
  /** Where paths outside the OTA root are taken (systemRootOf). */
  readonly systemRoot: string;
}

export interface PathOptions {
  readonly root?: string;
  readonly stateDir?: string;
  readonly reportFile?: string;
  readonly configDir?: string;
  readonly cacheDir?: string;
}

export const DEFAULT_ROOT = '/opt/edgeflow';
/** In the agent's StateDirectory= (/var/lib/edgeflow): the one place the sandboxed agent may write. */
export const DEFAULT_REPORT_FILE = '/var/lib/edgeflow/ota-trial.json';

/** Where the agent (EDGEFLOW_DATA_DIR=/var/lib/edgeflow) writes OTA install requests. */
export const DEFAULT_REQUEST_FILE = '/var/lib/edgeflow/ota/request.json';

/**
 * The system an OTA root belongs to: `/mnt/image` for `/mnt/image/opt/edgeflow`, `/` for the
 * default root, and the root itself for any other (a scratch directory): paths outside the OTA
 * root (config, cache, trial report, machine id) are taken under it, so a command given
 * `--root` never touches the host's /etc or /var unless told to by its own option.
 */
export function systemRootOf(root: string): string {
  const r = resolve(root);
  if (r === DEFAULT_ROOT) return '/';
  return r.endsWith(DEFAULT_ROOT) ? r.slice(0, -DEFAULT_ROOT.length) : r;
}

/** Resolves the layout; see docs/ota.md "On-disk layout". */
export function otaPaths(o: PathOptions = {}): OtaPaths {
  const root = o.root ?? DEFAULT_ROOT;
  const sys = systemRootOf(root);
  const stateDir = o.stateDir ?? join(root, 'state');
  return {
    root,
    releases: join(root, 'releases'),
    current: join(root, 'current'),
    staging: join(root, 'staging'),
    downloads: join(root, 'downloads'),
    snapshots: join(root, 'snapshots'),
    stateDir,
    stateFile: join(stateDir, 'ota.json'),
    lockFile: join(stateDir, 'ota.lock'),
    requestResultFile: join(stateDir, 'request-result.json'),
    requestLockFile: join(stateDir, 'request.lock'),
    reportFile: o.reportFile ?? join(sys, DEFAULT_REPORT_FILE),
    configDir: o.configDir ?? join(sys, 'etc/edgeflow'),
    cacheDir: o.cacheDir ?? join(sys, 'var/lib/edgeflow/cache'),
    systemRoot: sys,
  };
}
