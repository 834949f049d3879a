import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OtaDeps } from './deps.js';
import { OtaError } from './errors.js';
import { exists, readLinkOrUndefined, switchSymlink } from './fs-atomic.js';
import { currentTarget, pruneReleases, releaseDir, versionOfTarget } from './layout.js';
import type { OtaPaths } from './paths.js';
import { finishRestores, pruneSnapshots, restoreSnapshot } from './snapshot.js';
import { loadState, record, saveState } from './state.js';
import type { OtaState } from './state.js';
import { readReport, removeReport } from './report.js';

/**
 * Rolls back to `state.previous`: journal, restore its config/cache snapshot, switch `current`,
 * then record. Every step is idempotent, so `recover` redoes an interrupted rollback.
 */
export async function rollbackTo(
  paths: OtaPaths,
  s: OtaState,
  reason: string,
  deps: OtaDeps,
): Promise<OtaState> {
  const to = s.previous;
  const from = s.current;
  if (!to || !from || !(await exists(releaseDir(paths, to)))) {
    throw new OtaError(
      'EDGEFLOW_OTA_NO_PREVIOUS',
      `no previous release to roll back to (current ${from ?? 'none'})`,
    );
  }
  s.rollback = { from, to, reason, startedAt: deps.now().toISOString() };
  await saveState(paths, s);
  return finishRollback(paths, s, deps);
}

async function finishRollback(paths: OtaPaths, s: OtaState, deps: OtaDeps): Promise<OtaState> {
  const rb = s.rollback;
  if (!rb) return s;
  await restoreSnapshot(paths, rb.to, deps.log);
  await switchSymlink(paths.current, currentTarget(rb.to));
  s.current = rb.to;
  await removeReport(paths);
  // The failed release is not a rollback target; the next install provides a new one.
  s.previous = null;
  s.trial = null;
  s.rollback = null;
  record(s, {
    at: deps.now().toISOString(),
    event: 'rolled-back',
    version: rb.from,
    from: rb.from,
    reason: rb.reason,
  });
  await saveState(paths, s);
  deps.log.warn(
    { event: 'ota.rolled-back', from: rb.from, to: rb.to, reason: rb.reason },
    `rolled back ${rb.from} -> ${rb.to}: ${rb.reason}`,
  );
  await pruneReleases(paths, new Set([rb.to]));
  await pruneSnapshots(paths, new Set());
  return s;
}

/** Commits the trial: the release stays, its predecessor remains the manual rollback target. */
export async function commitTrial(
  paths: OtaPaths,
  s: OtaState,
  reason: string,
  deps: OtaDeps,
): Promise<OtaState> {
  const t = s.trial;
  if (!t) throw new OtaError('EDGEFLOW_OTA_NO_TRIAL', 'no release is on trial');
  s.trial = null;
  record(s, {
    at: deps.now().toISOString(),
    event: 'committed',
    version: t.version,
    from: t.from,
    reason,
  });
  await saveState(paths, s);
  deps.log.info(
    { event: 'ota.committed', version: t.version, reason },
    `committed ${t.version}: ${reason}`,
  );
  return s;
}

/** Applies what the agent reported for the current trial (commit or failure). */
export async function reconcileReport(
  paths: OtaPaths,
  s: OtaState,
  deps: OtaDeps,
): Promise<OtaState> {
  const t = s.trial;
  if (!t) return s;
  const r = await readReport(paths, deps.log);
  if (!r || r.version !== t.version) return s;
  if (r.committedAt)
    return commitTrial(paths, s, `healthy for ${t.probationSec}s after READY (agent report)`, deps);
  return s;
}

/**
 * Brings the disk back to a consistent state after a crash at any point: removes staging
 * leftovers, completes or undoes a half-done switch, redoes an interrupted rollback, repairs a
 * missing `current` link. Call with the lock held, before any other operation.
 */
export async function recover(paths: OtaPaths, deps: OtaDeps): Promise<OtaState> {
  const s = await loadState(paths);
  for (const n of await readdir(paths.staging).catch(() => [] as string[])) {
    await rm(join(paths.staging, n), { recursive: true, force: true });
  }
  for (const n of await readdir(paths.root).catch(() => [] as string[])) {
    if (n.startsWith('.current.new-')) await rm(join(paths.root, n), { force: true });
  }
  await finishRestores(paths);
  if (s.rollback) {
    deps.log.warn({ event: 'ota.recover', what: 'rollback' }, 'completing an interrupted rollback');
    return finishRollback(paths, s, deps);
  }
  const linked = versionOfTarget(await readLinkOrUndefined(paths.current));
  const inst = s.install;
  if (inst) {
    const now = deps.now().toISOString();
    if (linked === inst.version && (await exists(releaseDir(paths, inst.version)))) {
      // Killed after the switch, before the state was written: finish forward into the trial.
      s.current = inst.version;
      s.previous = inst.from;
      s.trial =
        inst.trial && inst.from
          ? {
              version: inst.version,
              from: inst.from,
              installedAt: inst.startedAt,
              starts: 0,
              firstStartAt: null,
              probationSec: inst.probationSec,
              deadlineSec: inst.deadlineSec,
              lastStop: null,
            }
          : null;
      record(s, {
        at: now,
        event: 'recovered',
        version: inst.version,
        from: inst.from,
        reason: 'install interrupted after switch: completed',
      });
    } else {
      // Killed before the switch: the old release stays; drop the unused new one.
      if (inst.from && linked !== inst.from)
        await switchSymlink(paths.current, currentTarget(inst.from));
      if (inst.version !== inst.from && inst.version !== s.previous) {
        await rm(releaseDir(paths, inst.version), { recursive: true, force: true });
      }
      record(s, {
        at: now,
        event: 'recovered',
        version: inst.version,
        from: inst.from,
        reason: 'install interrupted before switch: undone',
      });
    }
    s.install = null;
    await saveState(paths, s);
    deps.log.warn(
      { event: 'ota.recover', what: 'install', current: s.current },
      `recovered an interrupted install; current ${s.current ?? 'none'}`,
    );
    return s;
  }
  if (s.current && linked !== s.current && (await exists(releaseDir(paths, s.current)))) {
    await switchSymlink(paths.current, currentTarget(s.current));
    deps.log.warn({ event: 'ota.recover', what: 'current-link' }, `repaired ${paths.current}`);
  }
  // Releases unpacked by an install killed before its journal was written are orphans.
  const keep = new Set([s.current, s.previous].filter((v): v is string => v !== null));
  if (keep.size > 0) await pruneReleases(paths, keep);
  return s;
}
