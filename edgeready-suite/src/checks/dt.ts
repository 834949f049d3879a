import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, pass, skip, type CheckImpl } from './types.js';

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`,
    'i',
  );
  return re.test(value);
}

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

/** ER-DT-OVERLAYS: `edgeflow dt status` on the live boot configuration. */
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
  const ev = {
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
  const n = (r.stdout.match(/^overlay: .* ok /gm) ?? []).length;
  return pass(`${n} overlay(s) installed, every .dtbo present`, ev);
};
