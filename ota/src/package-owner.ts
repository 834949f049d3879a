import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OtaDeps } from './deps.js';
import { OtaError } from './errors.js';
import { atomicWriteFile } from '@edgeflow/core';
import { exists, switchSymlink } from './fs-atomic.js';
import { currentTarget, releaseDir, withLock } from './layout.js';
import { packagedVersion, pinFile } from './package-pin.js';
import type { OtaPaths } from './paths.js';
import { compareSemver, isSemver } from './semver.js';
import { record, saveState } from './state.js';
import { recover } from './transitions.js';

/*
 * Who owns /opt/edgeflow when apt and OTA both update a box (docs/install.md "apt and OTA"):
 * dpkg owns the files of the package's release (releases/<package version>/), the tool, the units
 * and /usr/bin links; the OTA tool alone writes `current` and state/, also on behalf of apt: the
 * package's postinst calls `edgeflow ota package configure --version V` and the rule below decides.
 * The package's release is pinned (package-pin.ts) so OTA never prunes files dpkg owns: it is
 * always on disk as the fallback.
 */

export interface PackageDecision {
  readonly version: string;
  readonly current: string;
  /** True when `current` now points at the package's release. */
  readonly switched: boolean;
  readonly reason: string;
}

/**
 * postinst: pins the package's release and applies the rule "the newer release runs": the package's
 * release becomes current (committed: dpkg has no trial) unless an OTA release of a higher version
 * is current or on trial, which stays; the package's release then becomes its rollback target
 * where the old package release (removed by dpkg) was.
 */
export async function configurePackage(
  paths: OtaPaths,
  version: string,
  deps: OtaDeps,
): Promise<PackageDecision> {
  if (!isSemver(version))
    throw new OtaError('EDGEFLOW_OTA_USAGE', `--version ${version} is not a SemVer version`);
  if (!(await exists(join(releaseDir(paths, version), 'bin', 'edgeflow'))))
    throw new OtaError(
      'EDGEFLOW_OTA_PACKAGE_RELEASE_MISSING',
      `${releaseDir(paths, version)}/bin/edgeflow is missing: the package was not unpacked completely (apt install --reinstall edgeflow)`,
    );
  return withLock(paths, async () => {
    const old = await packagedVersion(paths);
    // Pinned before recovery: recovery prunes releases that are neither current nor previous,
    // which the release dpkg just unpacked is not yet.
    await atomicWriteFile(pinFile(paths), `${JSON.stringify({ format: 1, version })}\n`, {
      mode: 0o644,
    });
    const s = await recover(paths, deps);
    const at = deps.now().toISOString();
    const cur =
      s.current !== null && (await exists(releaseDir(paths, s.current))) ? s.current : null;
    const running = s.trial?.version ?? cur;
    if (cur === null || cur === old || cur === version || compareSemver(version, running!) > 0) {
      const from = cur !== null && cur !== version ? cur : null;
      await switchSymlink(paths.current, currentTarget(version));
      const reason =
        s.trial !== null && s.trial.version !== version
          ? `Debian package ${version} supersedes the trial of ${s.trial.version}`
          : `Debian package ${version}`;
      s.current = version;
      // A previous OTA release stays a manual rollback target while it is on disk.
      s.previous = from ?? (s.previous !== version ? s.previous : null);
      if (s.previous !== null && !(await exists(releaseDir(paths, s.previous)))) s.previous = null;
      s.trial = null;
      await rm(paths.reportFile, { force: true });
      record(s, { at, event: 'installed', version, from, reason });
      await saveState(paths, s);
      deps.log.info({ event: 'ota.package', version, from }, `current -> ${version}: ${reason}`);
      return { version, current: version, switched: true, reason };
    }
    // An OTA release at least as new runs: keep it, and make the new package release the fallback
    // where the previous package release (gone with the upgrade) was the rollback target.
    if (old !== undefined && old !== version) {
      if (s.previous === old) s.previous = version;
      if (s.trial?.from === old) s.trial.from = version;
      if (await exists(join(paths.snapshots, old)))
        await rename(join(paths.snapshots, old), join(paths.snapshots, version));
    }
    const reason = `OTA release ${running} is newer than the package's ${version}: it stays current`;
    record(s, { at, event: 'installed', version, from: null, reason });
    await saveState(paths, s);
    deps.log.info({ event: 'ota.package', version, current: cur }, reason);
    return { version, current: cur, switched: false, reason };
  });
}

/**
 * prerm remove: dpkg is about to delete the package's files. Removes what OTA added under the root
 * (`current`, releases other than the package's, scratch space) so no program files outlive the
 * package; keeps state/ (history) and snapshots/ (config and cache copies: user data) for purge.
 */
export async function removePackage(paths: OtaPaths, deps: OtaDeps): Promise<void> {
  await withLock(paths, async () => {
    const pinned = await packagedVersion(paths);
    await rm(paths.current, { force: true });
    for (const n of await readdir(paths.releases).catch(() => [] as string[]))
      if (n !== pinned) await rm(join(paths.releases, n), { recursive: true, force: true });
    await rm(paths.staging, { recursive: true, force: true });
    await rm(paths.downloads, { recursive: true, force: true });
    await rm(pinFile(paths), { force: true });
    deps.log.info({ event: 'ota.package-removed', version: pinned }, 'package removed');
  });
}
