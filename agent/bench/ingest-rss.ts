/**
 * RSS of the durable agent with 100k distinct sensors cached, under variants of the process
 * environment a systemd unit can set (glibc arenas, V8 heap sizes), all in the same run, with
 * the breakdown of `ingest-memory.ts` at each stage.
 */
import { loadavg } from 'node:os';
import type { MemStage } from './ingest-memory.js';
import { runCase, type Result } from './ingest-run.js';

interface Variant {
  env: Record<string, string>;
  flags: string[];
}

/** Building blocks; a variant name joins them with `+` (e.g. `arena2+semi4`). */
const PARTS: Record<string, Variant> = {
  default: { env: {}, flags: [] },
  arena2: { env: { MALLOC_ARENA_MAX: '2' }, flags: [] },
  arena1: { env: { MALLOC_ARENA_MAX: '1' }, flags: [] },
  semi1: { env: {}, flags: ['--max-semi-space-size=1'] },
  semi4: { env: {}, flags: ['--max-semi-space-size=4'] },
  semi64: { env: {}, flags: ['--max-semi-space-size=64'] },
  old96: { env: {}, flags: ['--max-old-space-size=96'] },
  old128: { env: {}, flags: ['--max-old-space-size=128'] },
  optsize: { env: {}, flags: ['--optimize-for-size'] },
  /** glibc returns freed memory at the top of an arena above 128 KiB by default; 0 = always. */
  trim0: { env: { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' }, flags: [] },
};

export const RSS_VARIANTS_DEFAULT = 'default,arena2,semi4,old96,arena2+semi4,semi64';

export function variantNames(): string[] {
  return Object.keys(PARTS);
}

function variant(name: string): Variant {
  const out: Variant = { env: {}, flags: [] };
  for (const part of name.split('+')) {
    const v = PARTS[part];
    if (v === undefined) throw new Error(`unknown RSS variant part "${part}"`);
    Object.assign(out.env, v.env);
    out.flags.push(...v.flags);
  }
  return out;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

function describe(v: Variant): string {
  const parts = [...Object.entries(v.env).map(([k, val]) => `${k}=${val}`), ...v.flags];
  return parts.length === 0 ? '(none)' : parts.join(' ');
}

function stageRow(s: MemStage): string {
  if (s.stage.startsWith('peak')) return `| ${s.stage} | ${mib(s.rss)} |${' |'.repeat(15)}\n`;
  const sp = s.v8Spaces;
  const v8 = Object.values(sp).reduce((a, b) => a + b, 0);
  return (
    `| ${s.stage} | ${mib(s.rss)} | ${mib(s.heapUsed)} | ${mib(s.heapTotal)} | ${mib(v8)} | ` +
    `${mib(sp.new_space ?? 0)} | ${mib(sp.old_space ?? 0)} | ${mib(sp.large_object_space ?? 0)} | ` +
    `${mib(s.external)} | ${mib(s.arrayBuffers)} | ${mib(s.file)} | ${mib(s.brk)} | ` +
    `${mib(s.arenas)} (${s.arenaCount}) | ${mib(s.anonOther - v8)} | ${mib(s.smapsRss)} | ` +
    `${mib(s.rssAnon)} | ${mib(s.rssFile)} |\n`
  );
}

const STAGE_HEAD =
  '| stage | rss | heapUsed | heapTotal | V8 physical | new space | old space | large objects ' +
  '| external | arrayBuffers | file-backed | [heap] (main arena) | other arenas (count) ' +
  '| other anon minus V8 | smaps Rss total | status RssAnon | status RssFile |\n' +
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';

/**
 * Runs every variant `repeat` times, interleaved (A B C A B C: drift of the shared box spreads
 * over all variants), 100k distinct sensors each (10 publishers x 10k keys); prints MiB.
 */
export async function runRss(names: string[], window: number, repeat: number): Promise<void> {
  const rows: [string, Result][] = [];
  const w = (s: string) => process.stdout.write(s);
  w('\nRSS of the durable agent (a) with 100k distinct sensors cached, MiB (2^20 bytes):\n');
  for (let i = 0; i < repeat; i++) {
    for (const name of names) {
      const v = variant(name);
      const r = await runCase({
        c: 'a',
        pubs: 10,
        total: 100_000,
        window,
        keysPerPub: 10_000,
        memStages: true,
        env: v.env,
        nodeFlags: v.flags,
      });
      rows.push([name, r]);
      w(
        `\nvariant ${name} (run ${i + 1}): ${describe(v)}; fill at ${r.rate.toFixed(0)} msg/s, ` +
          `${r.cpuUs.toFixed(1)} µs/msg, load ${loadavg()[0]?.toFixed(2)}\n\n`,
      );
      w(STAGE_HEAD);
      for (const s of r.stages ?? []) w(stageRow(s));
    }
  }
  w('\nsummary (RSS, MiB; "settled" = +6 s idle, GC, 0.5 s):\n\n');
  w('| variant | settings | before 1st msg | peak | settled | heapUsed settled | fill µs/msg |\n');
  w('|---|---|---:|---:|---:|---:|---:|\n');
  for (const [name, r] of rows) {
    const st = r.stages ?? [];
    const at = (prefix: string) => st.find((s) => s.stage.startsWith(prefix));
    const settled = at('+6 s');
    w(
      `| ${name} | ${describe(variant(name))} | ${mib(at('started')?.rss ?? NaN)} | ` +
        `${mib(at('peak')?.rss ?? NaN)} | ${mib(settled?.rss ?? NaN)} | ` +
        `${mib(settled?.heapUsed ?? NaN)} | ${r.cpuUs.toFixed(1)} |\n`,
    );
  }
}
