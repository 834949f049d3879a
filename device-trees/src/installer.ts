/**
 * The installer: target state (overlay enabled or not) → file changes → transactional apply.
 * Every check (board, overlay, boot files, syntax, writability) runs before the first write, so
 * an error leaves the disk untouched. Boot files are reached through {@link BootFiles} only.
 */
import { dirname, join } from 'node:path';
import { BOARDS, installedName, type BoardId, type BoardInfo } from './boards.js';
import { BootFiles } from './boot-files.js';
import { decodeConfig, encodeConfig, linesNaming, type ConfigText } from './config-text.js';
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
  /** Backups; default `<root>/var/lib/edgeflow-dt` (root's, outside every StateDirectory). */
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
  return t.stateDir ?? join(t.root, 'var/lib/edgeflow-dt');
}

function dtboRel(info: BoardInfo, overlay: string): string {
  return `${info.dtboDir}/${installedName(overlay)}.dtbo`;
}

/** Runs `fn` with the boot root open. */
async function withBoot<T>(t: Target, fn: (boot: BootFiles) => Promise<T>): Promise<T> {
  const boot = await BootFiles.open(t.root);
  try {
    return await fn(boot);
  } finally {
    await boot.close();
  }
}

async function context(info: BoardInfo, boot: BootFiles): Promise<LayoutContext> {
  let fdtCandidates: string[] = [];
  if (info.layout === 'jetson-extlinux') {
    fdtCandidates = (await boot.list('boot/dtb'))
      .filter((f) => /^kernel_tegra234-p3768-.*\.dtb$/.test(f))
      .sort()
      .map((f) => `/boot/dtb/${f}`);
  }
  return {
    bootPath: (o) => `/${dtboRel(info, o)}`,
    fdtCandidates,
    ...(info.dtbName !== undefined ? { dtbName: info.dtbName } : {}),
  };
}

interface Config extends ConfigText {
  readonly path: string;
  readonly raw: Buffer;
}

async function readConfig(t: Target, info: BoardInfo, boot: BootFiles): Promise<Config> {
  const path = join(t.root, info.configPath);
  const raw = await boot.read(info.configPath);
  if (raw === null) {
    throw dtError(
      'EDGEFLOW_DT_BOOT_MISSING',
      `boot configuration ${path} not found: is the boot partition mounted (${dirname(path)})?`,
    );
  }
  return { path, raw, ...decodeConfig(raw, info.configPath) };
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
  return withBoot(t, async (boot) => {
    const cfg = await readConfig(t, info, boot);
    const next = layout.add(cfg.text, name, await context(info, boot));
    const rel = dtboRel(info, name);
    return {
      board: t.board,
      overlay: name,
      changes: [
        ...change(rel, join(t.root, rel), await boot.read(rel), dtbo),
        ...change(info.configPath, cfg.path, cfg.raw, encodeConfig(cfg, next)),
      ],
    };
  });
}

/**
 * Compute the changes that disable `overlay` and delete its .dtbo. Refused when the config would
 * still name the overlay afterwards (a line outside EdgeFlow's block): the board would then boot
 * asking for a .dtbo that is gone.
 */
export async function planRemove(t: Target, overlay: string, _deps: InstallerDeps): Promise<Plan> {
  const info = BOARDS[t.board];
  const layout = layoutOf(info);
  const name = overlay
    .replace(/\.dtbo$/, '')
    .replace(/^.*\//, '')
    .replace(/^edgeflow-/, '');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw dtError('EDGEFLOW_DT_UNKNOWN_OVERLAY', `${JSON.stringify(overlay)} names no overlay`);
  return withBoot(t, async (boot) => {
    const cfg = await readConfig(t, info, boot);
    const next = layout.remove(cfg.text, name, await context(info, boot));
    const rel = dtboRel(info, name);
    const dtbo = await boot.read(rel);
    const still = linesNaming(next, name);
    if (dtbo !== null && still.length > 0) {
      throw dtError(
        'EDGEFLOW_DT_OVERLAY_STILL_ENABLED',
        `${info.configPath}:${still.join(',')} still enables ${installedName(name)} outside the EdgeFlow block; removing ${rel} would leave the board booting with a missing overlay. Delete that line by hand, then run remove again; nothing was changed`,
      );
    }
    return {
      board: t.board,
      overlay: name,
      changes: [
        ...change(info.configPath, cfg.path, cfg.raw, encodeConfig(cfg, next)),
        ...change(rel, join(t.root, rel), dtbo, null),
      ],
    };
  });
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
  await withBoot(t, (boot) =>
    applyChanges(boot, stateDir, t.board, action, plan.changes, deps.now),
  );
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
export async function status(t: Target, _deps: InstallerDeps): Promise<Status> {
  const info = BOARDS[t.board];
  const layout = layoutOf(info);
  return withBoot(t, async (boot) => {
    const cfg = await readConfig(t, info, boot);
    const ctx = await context(info, boot);
    const overlays = [];
    for (const name of layout.installed(cfg.text, ctx)) {
      const rel = dtboRel(info, name);
      overlays.push({ name, dtbo: join(t.root, rel), present: await boot.exists(rel) });
    }
    return {
      board: t.board,
      config: cfg.path,
      overlays,
      backups: await backupCount(stateDirOf(t)),
    };
  });
}

/** Overlay names enabled in the boot config (for `list`). */
export async function installedOverlays(t: Target, deps: InstallerDeps): Promise<string[]> {
  return (await status(t, deps)).overlays.map((o) => o.name);
}
