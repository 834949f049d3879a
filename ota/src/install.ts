import { manifestFitsBoard } from './board.js';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openBundle } from './bundle-reader.js';
import { DEFAULT_LIMITS } from './bundle-format.js';
import type { SizeLimits } from './bundle-format.js';
import type { OtaDeps } from './deps.js';
import { downloadBundle } from './download.js';
import { OtaError, ioError } from './errors.js';
import { stagingSink } from './extract.js';
import { fsyncDir, fsyncTree } from '@edgeflow/core';
import { exists, switchSymlink } from './fs-atomic.js';
import { loadTrustedKeys } from './keys.js';
import type { TrustedKeys } from './keys.js';
import { currentTarget, pruneReleases, releaseDir, withLock } from './layout.js';
import { payloadSize } from './manifest.js';
import type { Manifest } from './manifest.js';
import type { OtaPaths } from './paths.js';
import { inRollout } from './rollout.js';
import { compareSemver } from './semver.js';
import { pruneSnapshots, takeSnapshot } from './snapshot.js';
import { record, saveState } from './state.js';
import type { OtaState } from './state.js';
import { removeReport } from './report.js';
import { reconcileReport, recover } from './transitions.js';

/** Options of `edgeflow ota install`. */
export interface InstallOptions {
  /** Path to a bundle file, or an http(s):// URL (then `sha256` is required). */
  readonly source: string;
  readonly sha256?: string;
  readonly keysDir: string;
  /** This device's board profile id, matched against manifest.boards (board.ts). */
  readonly board: string;
  /** Its device-tree compatible strings, for manifest entries that are patterns. */
  readonly boardCompatible?: readonly string[];
  readonly deviceId: string;
  readonly agentVersion?: string;
  readonly halVersion?: string;
  readonly allowDowngrade?: boolean;
  readonly ignoreRollout?: boolean;
  /** Mark the release committed at once (image building); no trial. */
  readonly commit?: boolean;
  readonly noRestart?: boolean;
  readonly probationSec?: number;
  readonly deadlineSec?: number;
  readonly limits?: SizeLimits;
  readonly maxDownloadBytes?: number;
  /** Refuse a bundle of another version (an OTA request that named one). */
  readonly expectVersion?: string;
}

export interface InstallResult {
  readonly version: string;
  readonly from: string | null;
  readonly trial: boolean;
  readonly restarted: boolean;
}

/** Defaults of the trial: healthy for 5 min after READY commits; 15 min without commit rolls back. */
export const DEFAULT_PROBATION_SEC = 300;
export const DEFAULT_DEADLINE_SEC = 900;

/** Per-file overhead assumed when estimating the space an unpacked release needs. */
const SPACE_PER_FILE = 4096;

function checkCompat(m: Readonly<Manifest>, s: OtaState, o: InstallOptions): void {
  if (o.expectVersion !== undefined && o.expectVersion !== m.version) {
    throw new OtaError(
      'EDGEFLOW_OTA_REQUEST_VERSION_MISMATCH',
      `the bundle is ${m.name} ${m.version}, the request named ${o.expectVersion}`,
    );
  }
  if (!manifestFitsBoard(m.boards, { id: o.board, compatible: o.boardCompatible ?? [] })) {
    throw new OtaError(
      'EDGEFLOW_OTA_WRONG_BOARD',
      `bundle ${m.name} ${m.version} is for ${m.boards.join(', ')}, this board is ${o.board}`,
    );
  }
  for (const [need, have, what] of [
    [m.minAgentVersion, o.agentVersion, 'agent'],
    [m.minHalVersion, o.halVersion, 'HAL'],
  ] as const) {
    if (need && have && compareSemver(have, need) < 0) {
      throw new OtaError(
        'EDGEFLOW_OTA_INCOMPATIBLE',
        `bundle needs ${what} >= ${need}, this device has ${have}`,
      );
    }
  }
  if (s.current === m.version) {
    throw new OtaError(
      'EDGEFLOW_OTA_ALREADY_INSTALLED',
      `${m.version} is already the current release`,
    );
  }
  if (s.current && compareSemver(m.version, s.current) < 0 && !o.allowDowngrade) {
    throw new OtaError(
      'EDGEFLOW_OTA_DOWNGRADE',
      `${m.version} is older than the current ${s.current}; pass --allow-downgrade`,
    );
  }
  if (!o.ignoreRollout && m.rollout < 100 && o.deviceId === '') {
    throw new OtaError(
      'EDGEFLOW_OTA_USAGE',
      `${m.name} ${m.version} is rolled out to ${m.rollout}% of devices and this one has no id: pass --device-id, set EDGEFLOW_DEVICE_ID or give the system root an etc/machine-id`,
    );
  }
  if (!o.ignoreRollout && !inRollout(m.name, o.deviceId, m.rollout)) {
    throw new OtaError(
      'EDGEFLOW_OTA_NOT_IN_ROLLOUT',
      `device ${o.deviceId} is outside the ${m.rollout}% rollout of ${m.name}`,
    );
  }
}

/**
 * Installs a bundle: verify (signature first), check, unpack into staging, move into
 * `releases/<version>`, snapshot config/cache, switch `current`, record a trial, restart.
 * Refusals leave the disk as it was. See docs/ota.md for the crash-recovery argument.
 */
export async function install(
  paths: OtaPaths,
  o: InstallOptions,
  deps: OtaDeps,
): Promise<InstallResult> {
  const result = await withLock(paths, () => installLocked(paths, o, deps));
  if (o.noRestart || !(await exists(paths.current))) return result;
  try {
    await deps.restartService();
  } catch (e) {
    throw new OtaError(
      'EDGEFLOW_OTA_RESTART_FAILED',
      `switched to ${result.version} but the restart failed`,
      { cause: e },
    );
  }
  return { ...result, restarted: true };
}

async function installLocked(
  paths: OtaPaths,
  o: InstallOptions,
  deps: OtaDeps,
): Promise<InstallResult> {
  let s = await recover(paths, deps);
  s = await reconcileReport(paths, s, deps);
  if (s.trial) {
    throw new OtaError(
      'EDGEFLOW_OTA_TRIAL_RUNNING',
      `${s.trial.version} is on trial; commit or roll back first`,
    );
  }
  const keys = await loadTrustedKeys(o.keysDir);
  const file = await fetchSource(paths, o, deps);
  const { manifest: m, staging } = await unpack(paths, file, keys, s, o, deps);
  const from = s.current;
  const dest = releaseDir(paths, m.version);
  try {
    await rm(dest, { recursive: true, force: true });
    await rename(staging, dest);
    await fsyncDir(paths.releases);
  } catch (e) {
    throw ioError('cannot move the release into', dest, e);
  }
  await deps.checkpoint('released');
  if (from) await takeSnapshot(paths, from, deps.log);
  await deps.checkpoint('snapshotted');
  const trial = from !== null && !o.commit;
  await switchRelease(paths, s, m.version, trial, o, deps);
  await pruneReleases(paths, new Set([m.version, ...(from ? [from] : [])]));
  await pruneSnapshots(paths, new Set(from ? [from] : []));
  if (file !== o.source) await rm(file, { force: true });
  deps.log.info(
    { event: 'ota.installed', version: m.version, from, trial },
    `installed ${m.version}${trial ? ' (trial)' : ''}`,
  );
  return { version: m.version, from, trial, restarted: false };
}

/** The bundle file: `source` itself, or a verified download of the URL. */
async function fetchSource(paths: OtaPaths, o: InstallOptions, deps: OtaDeps): Promise<string> {
  if (!/^https?:\/\//.test(o.source)) return o.source;
  if (!o.sha256) throw new OtaError('EDGEFLOW_OTA_USAGE', 'installing from a URL needs --sha256');
  const file = await downloadBundle({
    url: o.source,
    sha256: o.sha256,
    dir: paths.downloads,
    maxBytes: o.maxDownloadBytes ?? 1024 ** 3,
  });
  await deps.checkpoint('downloaded');
  return file;
}

/**
 * Verifies the bundle (signature before anything is written, even to staging), checks it
 * against this device and the disk space, and extracts it into a fresh staging directory.
 * Any failure removes the staging directory.
 */
async function unpack(
  paths: OtaPaths,
  file: string,
  keys: TrustedKeys,
  s: OtaState,
  o: InstallOptions,
  deps: OtaDeps,
): Promise<{ manifest: Readonly<Manifest>; staging: string }> {
  const b = await openBundle(file);
  const staging = join(paths.staging, `${b.manifest.version}.${randomBytes(4).toString('hex')}`);
  try {
    b.verify(keys);
    const m = b.manifest;
    checkCompat(m, s, o);
    const need = payloadSize(m) + SPACE_PER_FILE * (m.files.length + 1);
    const free = await deps.freeBytes(paths.root);
    if (free < need) {
      throw new OtaError(
        'EDGEFLOW_OTA_NO_SPACE',
        `${paths.root} has ${free} bytes free, the release needs ${need}`,
      );
    }
    await deps.checkpoint('verified');
    await mkdir(staging, { mode: 0o755 });
    await b.walkPayload(
      stagingSink(staging, () => deps.checkpoint('mid-extract')),
      o.limits ?? DEFAULT_LIMITS,
    );
    await fsyncTree(staging);
    await deps.checkpoint('extracted');
    return { manifest: m, staging };
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  } finally {
    await b.close();
  }
}

/**
 * Journals the switch, points `current` at `version` (rename(2) of a new link), then records the
 * new state (with a trial when `trial`). A crash between the two writes is finished by recovery.
 */
async function switchRelease(
  paths: OtaPaths,
  s: OtaState,
  version: string,
  trial: boolean,
  o: InstallOptions,
  deps: OtaDeps,
): Promise<void> {
  const from = s.current;
  const probationSec = o.probationSec ?? DEFAULT_PROBATION_SEC;
  const deadlineSec = o.deadlineSec ?? DEFAULT_DEADLINE_SEC;
  const startedAt = deps.now().toISOString();
  // A report left by an earlier attempt of the same version must not commit or fail this trial.
  await removeReport(paths);
  s.install = { version, from, step: 'switching', trial, probationSec, deadlineSec, startedAt };
  await saveState(paths, s);
  await deps.checkpoint('switching');
  await switchSymlink(paths.current, currentTarget(version));
  await deps.checkpoint('switched');
  s.install = null;
  s.current = version;
  s.previous = from;
  s.trial = trial
    ? {
        version,
        from,
        installedAt: startedAt,
        starts: 0,
        firstStartAt: null,
        probationSec,
        deadlineSec,
        lastStop: null,
      }
    : null;
  record(s, {
    at: startedAt,
    event: 'installed',
    version,
    from,
    ...(trial ? {} : { reason: from ? 'committed at install (--commit)' : 'first install' }),
  });
  await saveState(paths, s);
  await deps.checkpoint('state-written');
}
