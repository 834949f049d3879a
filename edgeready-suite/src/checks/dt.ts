import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { globMatch } from '@edgeflow/core';
import { parseFdt, stringList, type FdtNode } from '@edgeflow/device-trees';
import { fixtureRoot } from './res.js';
import { check, fail, passUnless, skip, type Outcome } from './types.js';

interface ReadableRaw {
  readonly root: string;
  readonly profile: string;
  readonly bootLayout: string;
  readonly patterns: readonly string[];
  readonly compatible: string[] | null;
  readonly model: string;
  readonly error: string | null;
}

/** ER-DT-READABLE */
export const dtReadableCheck = check<ReadableRaw>({
  collect: async (ctx) => {
    const b = await ctx.board();
    const base = {
      root: ctx.opts.root,
      profile: b.profile.id,
      bootLayout: b.profile.bootLayout,
      patterns: b.profile.compatible,
    };
    if (b.profile.bootLayout === 'none')
      return { ...base, compatible: null, model: '', error: null };
    try {
      const compatible = (
        await readFile(join(ctx.opts.root, 'proc/device-tree/compatible'), 'utf8')
      )
        .split('\0')
        .filter(Boolean);
      const model = (
        await readFile(join(ctx.opts.root, 'proc/device-tree/model'), 'utf8').catch(() => '')
      )
        .replace(/\0+$/, '')
        .trim();
      return { ...base, compatible, model, error: null };
    } catch (e) {
      return { ...base, compatible: null, model: '', error: (e as Error).message };
    }
  },
  judge: ({ raw }): Outcome => {
    if (raw.bootLayout === 'none')
      return skip(`${raw.profile} boots without a device tree (boot layout "none")`);
    if (raw.error !== null || raw.compatible === null)
      return fail(`/proc/device-tree is not readable: ${raw.error ?? '?'}`);
    const compat = raw.compatible;
    const hit = raw.patterns.find((p) => compat.some((c) => globMatch(p, c)));
    const ev = {
      compatible: compat,
      model: raw.model,
      matched: hit ?? null,
      profile: raw.patterns,
    };
    return hit
      ? passUnless(fixtureRoot(raw.root), `compatible matches ${hit}`, ev)
      : fail(`no compatible string matches the ${raw.profile} profile`, ev);
  },
});

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

interface OverlaysRaw {
  readonly root: string;
  readonly profile: string;
  readonly bootLayout: string;
  readonly command?: string;
  readonly code?: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly overlays?: OverlayLive[];
  readonly unreadable?: string | null;
  readonly rebootPending?: boolean;
}

/**
 * ER-DT-OVERLAYS: `edgeflow dt status` on the boot configuration (every enabled overlay has
 * its .dtbo), then the running tree: each device node an installed overlay adds (by its
 * `compatible`) must be in /proc/device-tree. An overlay installed after the last boot is
 * reported as waiting for a reboot (the run then does not certify the hardware it adds).
 */
export const dtOverlaysCheck = check<OverlaysRaw>({
  collect: async (ctx) => {
    const b = await ctx.board();
    const base = { root: ctx.opts.root, profile: b.profile.id, bootLayout: b.profile.bootLayout };
    if (b.profile.bootLayout === 'none') return base;
    const r = await ctx.edgeflow([
      'dt',
      'status',
      '--board',
      b.profile.id,
      '--boot-root',
      ctx.opts.root,
    ]);
    const run = {
      ...base,
      command: `edgeflow ${r.args.join(' ')}`,
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
    };
    if (r.code !== 0) return run;
    const installed = [...r.stdout.matchAll(/^overlay: (\S+) ok (.+)$/gm)].map((m) => ({
      name: m[1] ?? '',
      dtbo: m[2] ?? '',
    }));
    const live = await liveCompatibles(join(ctx.opts.root, 'proc/device-tree'));
    const overlays: OverlayLive[] = [];
    for (const o of installed) {
      let devices: string[];
      try {
        devices = overlayDevices(parseFdt(await readFile(o.dtbo), o.dtbo));
      } catch (e) {
        return {
          ...run,
          overlays,
          unreadable: `${o.name}: ${o.dtbo} is not a readable overlay: ${(e as Error).message}`,
        };
      }
      overlays.push({
        ...o,
        devices,
        live: devices.length === 0 ? null : devices.every((c) => live.has(c)),
      });
    }
    const rebootPending = overlays.some((o) => o.live === false)
      ? await installedAfterBoot(ctx.opts.root, r.stdout)
      : false;
    return { ...run, overlays, unreadable: null, rebootPending };
  },
  judge: ({ raw }): Outcome => {
    if (raw.bootLayout === 'none')
      return skip(`${raw.profile} boots without a device tree (boot layout "none")`);
    const ev = { ...raw };
    if (raw.code !== 0)
      return fail(
        `edgeflow dt status exited ${String(raw.code)}: ${(raw.stderr ?? '').trim() || (raw.stdout ?? '').trim()}`,
        ev,
      );
    if (raw.unreadable) return fail(raw.unreadable, ev);
    const overlays = raw.overlays ?? [];
    if (overlays.length === 0) return passUnless(fixtureRoot(raw.root), 'no overlay installed', ev);
    const missing = overlays.filter((o) => o.live === false);
    const checked = overlays.filter((o) => o.live !== null).length;
    if (missing.length === 0)
      return passUnless(
        fixtureRoot(raw.root),
        `${overlays.length} overlay(s) installed; the devices of ${checked} are in the running tree` +
          (checked < overlays.length ? ` (${overlays.length - checked} add no device node)` : ''),
        ev,
      );
    const names = missing.map((o) => `${o.name} (${o.devices.join(', ')})`).join('; ');
    return fail(
      raw.rebootPending
        ? `installed after the last boot, not in the running tree until a reboot: ${names}`
        : `not in the running tree although the board booted after they were installed: ${names}`,
      ev,
    );
  },
});

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
