import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { asOtaError, errno } from './boundary.js';
import { OtaError } from './errors.js';
import type { OtaPaths } from './paths.js';
import { Dir, UnsafePathError, copyEntry, copyTree } from './safe-fs/index.js';
import type { CopyOptions } from './safe-fs/index.js';

/**
 * Config and cache snapshots (docs/ota.md, "The privilege boundary"). Snapshots live in
 * `<root>/snapshots/`, root-owned 0700, outside every StateDirectory. The cache sits in the
 * agent's StateDirectory, where the agent can create, replace or rename anything: it is read
 * without following a link and only what the agent owns is copied; on rollback it comes back as
 * a fresh directory root builds and hands over, never written into one the agent controls.
 */

/** The directories snapshotted with a release: name inside the snapshot -> live path. */
function parts(paths: OtaPaths): [string, string][] {
  return [
    ['config', paths.configDir],
    ['cache', paths.cacheDir],
  ];
}

const RESTORE_PREFIX = '.ota-restore-';
const OLD_PREFIX = '.ota-old-';

function rand(): string {
  return randomBytes(4).toString('hex');
}

/** The snapshots directory, which must be root's alone. */
async function snapshotsDir(paths: OtaPaths, create: boolean): Promise<Dir | undefined> {
  let d: Dir;
  try {
    d = await Dir.open(paths.snapshots, create ? { create: 0o700 } : {});
  } catch (e) {
    if (!create && errno(e) === 'ENOENT') return undefined;
    throw asOtaError(e, paths.snapshots);
  }
  if (!d.trusted) {
    await d.close();
    throw new OtaError(
      'EDGEFLOW_OTA_UNSAFE_PATH',
      `${paths.snapshots} can be changed by a user other than root (owner uid ${d.uid}, mode 0${d.mode.toString(8)}): snapshots must live in a root-only directory`,
    );
  }
  return d;
}

/** Opens the parent of a live directory, or undefined when it does not exist. */
async function openParent(live: string): Promise<Dir | undefined> {
  try {
    return await Dir.open(dirname(live));
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Copies config and cache into `snapshots/<version>/` (built beside it, then renamed in), taken
 * before switching away from `version` so a rollback to it restores what it last ran with.
 * A live directory that is a symlink, or entries the agent does not own, are left out (logged).
 */
export async function takeSnapshot(paths: OtaPaths, version: string, log: Logger): Promise<void> {
  const snaps = (await snapshotsDir(paths, true)) as Dir;
  const tmpName = `.tmp-${version}`;
  try {
    await snaps.removeTree(tmpName);
    const tmp = await snaps.makeDir(tmpName, 0o700);
    try {
      for (const [name, live] of parts(paths)) {
        const onSkip: CopyOptions['onSkip'] = (path, why) =>
          log.warn(
            { event: 'ota.snapshot_skipped', part: name, path, why },
            `snapshot: ${path} left out: ${why}`,
          );
        const parent = await openParent(live).catch((e: unknown) => {
          if (!(e instanceof UnsafePathError)) throw e;
          onSkip(live, e.reason);
          return undefined;
        });
        if (!parent) continue;
        try {
          const st = await parent.lstat(basename(live));
          if (st && !st.isDirectory()) onSkip(live, 'is not a directory (a symlink?)');
          else if (st) await copyEntry(parent, basename(live), tmp, name, { onSkip });
        } finally {
          await parent.close();
        }
      }
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await snaps.removeTree(version);
    await snaps.rename(tmpName, snaps, version);
    await snaps.sync();
  } catch (e) {
    throw asOtaError(e, paths.snapshots);
  } finally {
    await snaps.close();
  }
}

/**
 * Restores config and cache from `snapshots/<version>/`. A live directory only root controls
 * (the config, which may be a mount point) is restored entry by entry inside it; one in a
 * directory another user controls (the agent's cache) is replaced as a whole by a fresh
 * directory. A failure to restore into the agent's directory is logged and does not stop the
 * rollback: the agent must not be able to keep a failed release running by breaking its cache.
 * Idempotent, so a rollback interrupted by power loss is simply redone.
 */
export async function restoreSnapshot(
  paths: OtaPaths,
  version: string,
  log: Logger,
): Promise<boolean> {
  const snaps = await snapshotsDir(paths, false);
  const src = await snaps?.childIfExists(version);
  await snaps?.close();
  if (!src) return false;
  try {
    await finishRestores(paths);
    for (const [name, live] of parts(paths)) {
      const from = await src.childIfExists(name).catch((e: unknown) => {
        if (!(e instanceof UnsafePathError)) throw e;
        log.warn({ event: 'ota.restore_skipped', part: name, why: e.message }, e.message);
        return undefined;
      });
      if (!from) continue;
      try {
        await restorePart(from, live, name, log);
      } catch (e) {
        throw asOtaError(e, live);
      } finally {
        await from.close();
      }
    }
  } finally {
    await src.close();
  }
  return true;
}

async function restorePart(from: Dir, live: string, name: string, log: Logger): Promise<void> {
  const onSkip: CopyOptions['onSkip'] = (path, why) =>
    log.warn({ event: 'ota.restore_skipped', part: name, path, why }, `restore: ${path}: ${why}`);
  const parent = await openParent(live);
  if (!parent) {
    log.warn({ event: 'ota.restore_skipped', part: name, path: live }, `${dirname(live)} is gone`);
    return;
  }
  try {
    const base = basename(live);
    let dir: Dir | undefined;
    try {
      dir = await parent.childIfExists(base);
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e; // a link or a file: replaced below
    }
    if (dir?.trusted) {
      try {
        await restoreInPlace(from, dir, onSkip);
      } finally {
        await dir.close();
      }
      return;
    }
    await dir?.close();
    // The agent's directory (or the agent's parent): root's uid must never own it afterwards.
    const owner = parent.trusted && dir ? dir : parent;
    try {
      await replaceDir(from, parent, base, { uid: owner.uid, gid: owner.gid }, onSkip);
    } catch (e) {
      // The agent can break its own directory; it must not keep a failed release running by it.
      log.error(
        { event: 'ota.restore_failed', part: name, path: live, err: asOtaError(e, live) },
        `the ${name} snapshot was not restored into ${live}; the rollback goes on`,
      );
    }
  } finally {
    await parent.close();
  }
}

/** Root's own directory: each entry rebuilt beside itself and renamed over it; extras removed. */
async function restoreInPlace(from: Dir, live: Dir, onSkip: CopyOptions['onSkip']): Promise<void> {
  const want = new Set(await from.names());
  for (const n of await live.names()) if (!want.has(n)) await live.removeTree(n);
  for (const n of want) {
    const incoming = `${RESTORE_PREFIX}${n}`;
    await live.removeTree(incoming);
    if (!(await copyEntry(from, n, live, incoming, { onSkip }))) continue;
    // rename(2) replaces a file or an empty directory; a non-empty one is moved away first.
    if ((await live.lstat(n))?.isDirectory()) {
      const old = `${OLD_PREFIX}${n}-${rand()}`;
      await live.rename(n, live, old);
      await live.removeTree(old);
    }
    await live.rename(incoming, live, n);
  }
  await live.sync();
}

/**
 * Builds a fresh directory (root-owned, 0700 while filled, so the agent cannot touch its
 * content), moves whatever holds `name` aside, renames the fresh one in, then gives it to
 * `owner` through its descriptor and removes the old one without following links.
 */
async function replaceDir(
  from: Dir,
  parent: Dir,
  name: string,
  owner: { uid: number; gid: number },
  onSkip: CopyOptions['onSkip'],
): Promise<void> {
  const tag = rand();
  const fresh = await parent.makeDir(`${RESTORE_PREFIX}${name}-${tag}`, 0o700);
  try {
    await copyTree(from, fresh, { chownTo: owner, onSkip });
    const old = `${OLD_PREFIX}${name}-${tag}`;
    await parent.renameIfExists(name, parent, old);
    await parent.rename(`${RESTORE_PREFIX}${name}-${tag}`, parent, name);
    await fresh.chmod(from.mode & 0o777);
    await fresh.chown(owner.uid, owner.gid);
    await fresh.sync();
    await parent.sync();
    await parent.removeTree(old);
  } finally {
    await fresh.close();
  }
}

/** Removes restore copies a crash left behind (the rollback that made them is redone). */
export async function finishRestores(paths: OtaPaths): Promise<void> {
  for (const [, live] of parts(paths)) {
    const parent = await openParent(live).catch(() => undefined);
    if (!parent) continue;
    try {
      const base = basename(live);
      for (const n of await parent.names()) {
        if (n.startsWith(`${RESTORE_PREFIX}${base}-`) || n.startsWith(`${OLD_PREFIX}${base}-`))
          await parent.removeTree(n);
      }
      const dir = await parent.childIfExists(base).catch(() => undefined);
      if (dir?.trusted) {
        for (const n of await dir.names())
          if (n.startsWith(RESTORE_PREFIX) || n.startsWith(OLD_PREFIX)) await dir.removeTree(n);
      }
      await dir?.close();
    } finally {
      await parent.close();
    }
  }
}

/** Removes snapshots other than those of the listed versions. */
export async function pruneSnapshots(paths: OtaPaths, keep: ReadonlySet<string>): Promise<void> {
  const snaps = await snapshotsDir(paths, false);
  if (!snaps) return;
  try {
    for (const n of await snaps.names()) if (!keep.has(n)) await snaps.removeTree(n);
  } finally {
    await snaps.close();
  }
}
