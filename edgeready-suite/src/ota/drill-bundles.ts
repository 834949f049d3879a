import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundle, isSemver, keyIdOf } from '@edgeflow/ota';
import { EdgeReadyError } from '../errors.js';

/** What the shipped unit runs in a release (systemd/edgeflow-agent.service ExecStart). */
export const RELEASE_ENTRY = 'bin/edgeflow';

/**
 * The entry of the failing drill release: it exits non-zero before READY=1, as an update whose
 * agent cannot start would. systemd restarts it (Restart=on-failure) and the OTA prestart hook
 * rolls the trial back on that second start (docs/ota.md "States").
 */
export const FAILING_ENTRY = `#!/bin/sh
# EdgeReady OTA drill: a release that fails on purpose (it exits before READY=1); the OTA trial
# must roll it back to the previous release.
echo "edgeready OTA drill: this release fails on purpose (exit 1 before READY)" >&2
exit 1
`;

/** Our own suffix on a drill version, stripped before a new drill derives its versions. */
const DRILL_SUFFIX = /[-.]edgeready\.\d+\.\d+$/;

/**
 * Versions of a drill pair for a device running `current`: `<current>-edgeready.<stamp>.1` (the
 * good copy) and `.2` (the failing one). A pre-release of the running version sorts *below* it
 * (SemVer 11.3), so the drill installs them with --allow-downgrade and never raises the
 * device's version: the fleet's next real release still installs. The stamp keeps every drill's
 * versions new (an install of the running version is refused as already installed).
 */
export function drillVersions(current: string, stamp: number): { good: string; bad: string } {
  const base = current.replace(/\+.*$/, '').replace(DRILL_SUFFIX, '');
  if (!isSemver(base))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_OTA_DRILL',
      `the running release's version "${current}" is not SemVer: cannot derive drill versions`,
    );
  const sep = base.includes('-') ? '.' : '-';
  const s = Math.max(0, Math.floor(stamp));
  return { good: `${base}${sep}edgeready.${s}.1`, bad: `${base}${sep}edgeready.${s}.2` };
}

/** Copies a release tree, hard-linking files where the filesystem allows (a release is large). */
async function linkTree(src: string, dst: string, skip: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const name of await readdir(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const st = await lstat(s);
    if (st.isDirectory()) await linkTree(s, d, skip);
    else if (st.isSymbolicLink()) await symlink(await readlink(s), d);
    else if (st.isFile() && s !== skip)
      await link(s, d).catch(async () => {
        await copyFile(s, d);
      });
  }
}

/** One built drill bundle. */
export interface DrillBundle {
  readonly file: string;
  readonly version: string;
}

/** What {@link buildDrillBundles} made. */
export interface DrillBundles {
  readonly good: DrillBundle;
  readonly bad: DrillBundle;
  /** Key id of the signature (docs/ota.md "Keys"); the device must trust it. */
  readonly keyId: string;
  /** The release directory they were made from (symlinks resolved). */
  readonly from: string;
}

/**
 * The drill pair from a release directory: `good` is the release re-signed unchanged under a
 * drill version; `bad` is the same release whose `bin/edgeflow` exits before READY. Both are for
 * any board (`*`: they are copies of what already runs there) and the whole fleet (rollout 100).
 */
export async function buildDrillBundles(o: {
  readonly from: string;
  readonly keyPem: string;
  readonly outDir: string;
  readonly current: string;
  readonly stamp: number;
}): Promise<DrillBundles> {
  let keyId: string;
  try {
    keyId = keyIdOf(createPublicKey(createPrivateKey(o.keyPem)));
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_OTA_DRILL',
      'the drill key is not a PEM private key (edgeflow ota keygen writes NAME.key)',
      { cause },
    );
  }
  const from = await realpath(o.from);
  const entry = await lstat(join(from, RELEASE_ENTRY)).catch(() => undefined);
  if (!entry?.isFile())
    throw new EdgeReadyError(
      'EDGEFLOW_ER_OTA_DRILL',
      `${from} has no ${RELEASE_ENTRY} (what edgeflow-agent.service runs): not a release tree`,
    );
  const v = drillVersions(o.current, o.stamp);
  await mkdir(o.outDir, { recursive: true });
  const build = (dir: string, version: string, file: string) =>
    buildBundle({
      dir,
      out: join(o.outDir, file),
      name: 'edgeflow',
      version,
      boards: ['*'],
      rollout: 100,
      privateKeyPem: o.keyPem,
    });
  await build(from, v.good, `edgeflow-${v.good}.tar.gz`);
  const badTree = join(o.outDir, 'failing-release');
  await rm(badTree, { recursive: true, force: true });
  try {
    await linkTree(from, badTree, join(from, RELEASE_ENTRY));
    await writeFile(join(badTree, RELEASE_ENTRY), FAILING_ENTRY, { mode: 0o755 });
    await build(badTree, v.bad, `edgeflow-${v.bad}.tar.gz`);
  } finally {
    await rm(badTree, { recursive: true, force: true });
  }
  return {
    good: { file: join(o.outDir, `edgeflow-${v.good}.tar.gz`), version: v.good },
    bad: { file: join(o.outDir, `edgeflow-${v.bad}.tar.gz`), version: v.bad },
    keyId,
    from,
  };
}
