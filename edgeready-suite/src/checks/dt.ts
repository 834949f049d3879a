import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { globMatch } from '@edgeflow/core';
import { parseFdt, stringList, type FdtNode } from '@edgeflow/device-trees';
import { fail, pass, skip, type CheckImpl } from './types.js';

/** ER-DT-READABLE */
export const dtReadableCheck: CheckImpl = async (ctx) => {
  const b = await ctx.board();
  if (b.profile.bootLayout === 'none')
    return skip(`${b.profile.id} boots without a device tree (boot layout "none")`);
  let compat: string[];
  let model: string;
  try {
    compat = (await readFile(join(ctx.opts.root, 'proc/device-tree/compatible'), 'utf8'))
      .split('\0')
      .filter(Boolean);
    model = (await readFile(join(ctx.opts.root, 'proc/device-tree/model'), 'utf8').catch(() => ''))
      .replace(/\0+$/, '')
      .trim();
  } catch (e) {
    return fail(`/proc/device-tree is not readable: ${(e as Error).message}`);
  }
  const hit = b.profile.compatible.find((p) => compat.some((c) => globMatch(p, c)));
  const ev = { compatible: compat, model, matched: hit ?? null, profile: b.profile.compatible };
  return hit
    ? pass(`compatible matches ${hit}`, ev)
    : fail(`no compatible string matches the ${b.profile.id} profile`, ev);
};

/** What one installed overlay adds, and whether the running tree shows it. */
export interface OverlayLive {
  name: string;
  dtbo: string;
  /** `compatible` strings of the device nodes the overlay adds (empty: it adds none). */
  devices: string[];
  /** true/false; null when the overlay adds no device node (only properties, e.g. status). */
  live: boolean | null;
}

/** The `compatible` strings of every node inside the overlay's `__overlay__` fragments. */
export function overlayDevices(dtbo: FdtNode): string[] {
  const out = new Set<string>();
  // Nodes below `__overlay__` are added to the target; properties of `__overlay__` itself only
  // change the target (e.g. status = "okay" on a bus) and have no compatible of their own.
  const collect = (n: FdtNode) => {
    for (const c of stringList(n.props.get('compatible'))) out.add(c);
    for (const c of n.children) collect(c);
  };
  for (const frag of dtbo.children) {
    const ov = frag.children.find((c) => c.name === '__overlay__');
    if (ov !== undefined) for (const c of ov.children) collect(c);
  }
  return [...out];
}

/** Every `compatible` string in a /proc/device-tree directory tree (bounded walk). */
export async function liveCompatibles(dir: string, limit = 20_000): Promise<Set<string>> {
  const found = new Set<string>();
  let visited = 0;
  const walk = async (d: string): Promise<void> => {
    if (++visited > limit) return;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name === 'compatible')
        for (const c of (await readFile(join(d, e.name), 'latin1')).split('\0'))
          if (c !== '') found.add(c);
    }
  };
  await walk(dir);
  return found;
}

/**
 * ER-DT-OVERLAYS: `edgeflow dt status` on the boot configuration (every enabled overlay has
 * its .dtbo), then the running tree: each device node an installed overlay adds (by its
 * `compatible`) must be in /proc/device-tree. An overlay installed after the last boot is
 * reported as waiting for a reboot (the run then does not certify the hardware it adds).
 */
export const dtOverlaysCheck: CheckImpl = async (ctx) => {
  const b = await ctx.board();
  if (b.profile.bootLayout === 'none')
    return skip(`${b.profile.id} boots without a device tree (boot layout "none")`);
  const r = await ctx.edgeflow([
    'dt',
    'status',
    '--board',
    b.profile.id,
    '--boot-root',
    ctx.opts.root,
  ]);
  const ev: Record<string, unknown> = {
    command: `edgeflow ${r.args.join(' ')}`,
    code: r.code,
    stdout: r.stdout,
    stderr: r.stderr,
  };
  if (r.code !== 0)
    return fail(
      `edgeflow dt status exited ${String(r.code)}: ${r.stderr.trim() || r.stdout.trim()}`,
      ev,
    );
  const installed = [...r.stdout.matchAll(/^overlay: (\S+) ok (.+)$/gm)].map((m) => ({
    name: m[1] ?? '',
    dtbo: m[2] ?? '',
  }));
  if (installed.length === 0) return pass('no overlay installed', ev);
  const live = await liveCompatibles(join(ctx.opts.root, 'proc/device-tree'));
  const overlays: OverlayLive[] = [];
  for (const o of installed) {
    let devices: string[];
    try {
      devices = overlayDevices(parseFdt(await readFile(o.dtbo), o.dtbo));
    } catch (e) {
      ev.overlays = overlays;
      return fail(`${o.name}: ${o.dtbo} is not a readable overlay: ${(e as Error).message}`, ev);
    }
    overlays.push({
      ...o,
      devices,
      live: devices.length === 0 ? null : devices.every((c) => live.has(c)),
    });
  }
  ev.overlays = overlays;
  const missing = overlays.filter((o) => o.live === false);
  const checked = overlays.filter((o) => o.live !== null).length;
  if (missing.length === 0)
    return pass(
      `${installed.length} overlay(s) installed; the devices of ${checked} are in the running tree` +
        (checked < installed.length ? ` (${installed.length - checked} add no device node)` : ''),
      ev,
    );
  const names = missing.map((o) => `${o.name} (${o.devices.join(', ')})`).join('; ');
  const pending = await installedAfterBoot(ctx.opts.root, r.stdout);
  ev.rebootPending = pending;
  return fail(
    pending
      ? `installed after the last boot, not in the running tree until a reboot: ${names}`
      : `not in the running tree although the board booted after they were installed: ${names}`,
    ev,
  );
};

/** Whether the boot configuration changed after the running kernel booted (/proc/stat btime). */
async function installedAfterBoot(root: string, statusOut: string): Promise<boolean> {
  const cfg = /^boot config: (.+)$/m.exec(statusOut)?.[1];
  const btime = /^btime (\d+)$/m.exec(
    await readFile(join(root, 'proc/stat'), 'utf8').catch(() => ''),
  )?.[1];
  if (cfg === undefined || btime === undefined) return false;
  const m = await stat(cfg).catch(() => undefined);
  return m !== undefined && m.mtimeMs > Number(btime) * 1000;
}
