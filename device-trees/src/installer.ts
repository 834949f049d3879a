/**
 * The installer: target state (overlay enabled or not) → file changes → transactional apply.
 * Every check (board, overlay, boot files, syntax, writability) runs before the first write, so
 * an error leaves the disk untouched.
 */
import { dirname, join } from 'node:path';
import { BOARDS, installedName, type BoardId, type BoardInfo } from './boards.js';
import { dtError } from './errors.js';
import type { FsOps } from './fs-ops.js';
import { armbianEnvLayout } from './layouts/armbian-env.js';
import { configTxtLayout } from './layouts/config-txt.js';
import { extlinuxLayout } from './layouts/extlinux.js';
import type { BootLayout, LayoutContext } from './layouts/layout.js';
import { checkOverlayBoard, type LoadOverlay } from './overlay-source.js';
import { applyChanges, backupCount, preflight, type FileChange } from './transaction.js';

/** What the installer needs from the world. */
export interface InstallerDeps {
  readonly fs: FsOps;
  readonly loadOverlay: LoadOverlay;
  readonly now: () => Date;
}

/** Where to operate. */
export interface Target {
  readonly board: BoardId;
  /** The system root (`--boot-root`): boot files are under `<root>/boot/...`. */
  readonly root: string;
  /** Backups; default `<root>/var/lib/edgeflow/dt`. */
  readonly stateDir?: string;
}

/** A computed operation: the files it changes (only those that differ). */
export interface Plan {
  readonly board: BoardId;
  readonly overlay: string;
  readonly changes: readonly FileChange[];
}

function layoutOf(info: BoardInfo): BootLayout {
  switch (info.layout) {
    case 'rpi-config-txt':
      return configTxtLayout;
    case 'armbian-env':
      return armbianEnvLayout;
    case 'jetson-extlinux':
      return extlinuxLayout;
    case 'none':
      throw dtError('EDGEFLOW_DT_NO_DEVICE_TREE', info.refusal ?? `${info.id} has no device tree`);
  }
}

export function stateDirOf(t: Target): string {
  return t.stateDir ?? join(t.root, 'var/lib/edgeflow/dt');
}

function dtboRel(info: BoardInfo, overlay: string): string {
  return `${info.dtboDir}/${installedName(overlay)}.dtbo`;
}

async function context(t: Target, info: BoardInfo, fs: FsOps): Promise<LayoutContext> {
  let fdtCandidates: string[] = [];
  if (info.layout === 'jetson-extlinux') {
    const dir = join(t.root, 'boot/dtb');
    if (await fs.exists(dir)) {
      fdtCandidates = (await fs.readdir(dir))
        .filter((f) => /^kernel_tegra234-p3768-.*\.dtb$/.test(f))
        .sort()
        .map((f) => `/boot/dtb/${f}`);
    }
  }
  return {
    bootPath: (o) => `/${dtboRel(info, o)}`,
    fdtCandidates,
    ...(info.dtbName !== undefined ? { dtbName: info.dtbName } : {}),
  };
}

async function readConfig(
  t: Target,
  info: BoardInfo,
  fs: FsOps,
): Promise<{ path: string; text: string; raw: Buffer }> {
  const path = join(t.root, info.configPath);
  let raw: Buffer;
  try {
    raw = await fs.readFile(path);
  } catch (err) {
    throw dtError(
      'EDGEFLOW_DT_BOOT_MISSING',
      `boot configuration ${path} not found: is the boot partition mounted (${dirname(path)})?`,
      err,
    );
  }
  return { path, text: raw.toString('utf8'), raw };
}

async function readOptional(fs: FsOps, path: string): Promise<Buffer | null> {
  return (await fs.exists(path)) ? fs.readFile(path) : null;
}

function change(
  rel: string,
  path: string,
  before: Buffer | null,
  after: Buffer | null,
): FileChange[] {
  if (before === null && after === null) return [];
  if (before && after && before.equals(after)) return [];
  return [{ rel, path, before, after }];
}

/** Compute the changes that enable `overlay` (catalog name or .dtbo path). */
export async function planInstall(
  t: Target,
  overlayArg: string,
  deps: InstallerDeps,
): Promise<Plan> {
  const info = BOARDS[t.board];
  const layout = layoutOf(info);
  const { name, dtbo } = await deps.loadOverlay(t.board, overlayArg);
  checkOverlayBoard(t.board, name, dtbo);
  const cfg = await readConfig(t, info, deps.fs);
  const ctx = await context(t, info, deps.fs);
  const next = layout.add(cfg.text, name, ctx);
  const rel = dtboRel(info, name);
  const dtboPath = join(t.root, rel);
  return {
    board: t.board,
    overlay: name,
    changes: [
      ...change(rel, dtboPath, await readOptional(deps.fs, dtboPath), dtbo),
      ...change(info.configPath, cfg.path, cfg.raw, Buffer.from(next, 'utf8')),
    ],
  };
}

/** Compute the changes that disable `overlay` and delete its .dtbo. */
export async function planRemove(t: Target, overlay: string, deps: InstallerDeps): Promise<Plan> {
  const info = BOARDS[t.board];
  const layout = layoutOf(info);
  const name = overlay
    .replace(/\.dtbo$/, '')
    .replace(/^.*\//, '')
    .replace(/^edgeflow-/, '');
  const cfg = await readConfig(t, info, deps.fs);
  const ctx = await context(t, info, deps.fs);
  const next = layout.remove(cfg.text, name, ctx);
  const rel = dtboRel(info, name);
  const dtboPath = join(t.root, rel);
  return {
    board: t.board,
    overlay: name,
    changes: [
      ...change(info.configPath, cfg.path, cfg.raw, Buffer.from(next, 'utf8')),
      ...change(rel, dtboPath, await readOptional(deps.fs, dtboPath), null),
    ],
  };
}

/** Apply a plan transactionally (no-op when it changes nothing). */
export async function applyPlan(
  t: Target,
  plan: Plan,
  action: string,
  deps: InstallerDeps,
): Promise<void> {
  if (plan.changes.length === 0) return;
  const stateDir = stateDirOf(t);
  // Directories that do not exist yet are created: check the nearest one that does.
  const dirs = await Promise.all(
    [...plan.changes.map((c) => dirname(c.path)), stateDir].map((d) =>
      existingAncestor(deps.fs, d),
    ),
  );
  await preflight(deps.fs, dirs);
  await applyChanges(deps.fs, stateDir, action, plan.changes, deps.now);
}

async function existingAncestor(fs: FsOps, dir: string): Promise<string> {
  let d = dir;
  while (!(await fs.exists(d)) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** What `status` reports. */
export interface Status {
  readonly board: BoardId;
  readonly config: string;
  readonly overlays: readonly { name: string; dtbo: string; present: boolean }[];
  readonly backups: number;
}

/** Read the installed state without changing anything. */
export async function status(t: Target, deps: InstallerDeps): Promise<Status> {
  const info = BOARDS[t.board];
  const layout = layoutOf(info);
  const cfg = await readConfig(t, info, deps.fs);
  const ctx = await context(t, info, deps.fs);
  const overlays = [];
  for (const name of layout.installed(cfg.text, ctx)) {
    const dtbo = join(t.root, dtboRel(info, name));
    overlays.push({ name, dtbo, present: await deps.fs.exists(dtbo) });
  }
  return {
    board: t.board,
    config: cfg.path,
    overlays,
    backups: await backupCount(deps.fs, stateDirOf(t)),
  };
}

/** Overlay names enabled in the boot config (for `list`). */
export async function installedOverlays(t: Target, deps: InstallerDeps): Promise<string[]> {
  return (await status(t, deps)).overlays.map((o) => o.name);
}
