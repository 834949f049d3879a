/**
 * Jetson `extlinux.conf` as read by NVIDIA's UEFI L4TLauncher (JetPack 6). EdgeFlow never edits
 * the existing entries: it adds `LABEL edgeflow`, a copy of the default entry with `FDT` and
 * `OVERLAYS` (comma-separated: L4TLauncher splits on ',' and applies overlays only when FDT is
 * set), and points `DEFAULT` at it. The original entry stays in the boot menu as the fallback and
 * is named in the new entry's MENU LABEL so `remove` can restore DEFAULT.
 */
import { dtError } from '../errors.js';
import { fromLines, toLines, type BootLayout, type LayoutContext } from './layout.js';

const FILE = 'extlinux.conf';
export const LABEL = 'edgeflow';
const MENU_PREFIX = 'EdgeFlow device-tree overlays (fallback: ';
/** L4TLauncher's MAX_EXTLINUX_OPTIONS: entries past it are ignored. */
const MAX_ENTRIES = 10;

const GLOBAL_KEYS = ['TIMEOUT', 'DEFAULT', 'MENU TITLE', 'PROMPT'];
const ENTRY_KEYS = ['MENU LABEL', 'LINUX', 'INITRD', 'FDT', 'APPEND', 'OVERLAYS'];

interface Entry {
  label: string;
  start: number;
  /** Index of the last directive line of the entry. */
  last: number;
  directives: Map<string, { line: number; value: string; indent: string }>;
}

interface Parsed {
  lines: string[];
  eol: boolean;
  defaultLine: number;
  defaultLabel: string;
  entries: Entry[];
}

function keyOf(t: string): string | undefined {
  const upper = t.toUpperCase();
  return [...GLOBAL_KEYS, ...ENTRY_KEYS, 'LABEL'].find(
    (k) => upper === k || upper.startsWith(k + ' ') || upper.startsWith(k + '\t'),
  );
}

function bad(n: number, line: string, why: string) {
  return dtError(
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
    `${FILE}:${n}: ${why}: ${JSON.stringify(line)}; refusing to edit it`,
  );
}

function parse(text: string): Parsed {
  const { lines, eol } = toLines(text);
  const entries: Entry[] = [];
  let defaultLine = -1;
  let defaultLabel = '';
  lines.forEach((line, i) => {
    // L4TLauncher drops everything after '#'.
    const t = line.replace(/#.*$/, '').trim();
    if (t === '') return;
    const key = keyOf(t);
    if (!key) throw bad(i + 1, line, 'unknown directive');
    const value = t.slice(key.length).trim();
    const cur = entries.at(-1);
    if (key === 'LABEL') {
      if (value === '' || entries.some((e) => e.label === value))
        throw bad(i + 1, line, 'empty or repeated LABEL');
      entries.push({ label: value, start: i, last: i, directives: new Map() });
    } else if (GLOBAL_KEYS.includes(key)) {
      if (cur) throw bad(i + 1, line, `${key} inside the entry ${cur.label}`);
      if (key === 'DEFAULT') {
        if (defaultLine >= 0) throw bad(i + 1, line, 'second DEFAULT');
        defaultLine = i;
        defaultLabel = value;
      }
    } else {
      if (!cur) throw bad(i + 1, line, `${key} before any LABEL`);
      if (cur.directives.has(key)) throw bad(i + 1, line, `repeated ${key} in ${cur.label}`);
      cur.directives.set(key, { line: i, value, indent: /^\s*/.exec(line)?.[0] ?? '' });
      cur.last = i;
    }
  });
  if (defaultLine < 0) throw bad(1, lines[0] ?? '', 'no DEFAULT line');
  if (!entries.some((e) => e.label === defaultLabel)) {
    throw bad(defaultLine + 1, lines[defaultLine]!, `DEFAULT names no LABEL`);
  }
  const own = entries.find((e) => e.label === LABEL);
  if (own && !(own.directives.get('MENU LABEL')?.value.startsWith(MENU_PREFIX) ?? false)) {
    throw bad(
      own.start + 1,
      lines[own.start]!,
      'an entry named edgeflow that EdgeFlow did not write',
    );
  }
  return { lines, eol, defaultLine, defaultLabel, entries };
}

function overlaysOf(e: Entry | undefined): string[] {
  const v = e?.directives.get('OVERLAYS')?.value;
  return v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
}

function ownEntry(p: Parsed): Entry | undefined {
  return p.entries.find((e) => e.label === LABEL);
}

function nameOf(path: string): string | undefined {
  return /\/edgeflow-([a-z0-9-]+)\.dtbo$/.exec(path)?.[1];
}

export const extlinuxLayout: BootLayout = {
  installed(text) {
    const names: string[] = [];
    for (const path of overlaysOf(ownEntry(parse(text)))) {
      const n = nameOf(path);
      if (n) names.push(n);
    }
    return names;
  },

  add(text, overlay, ctx: LayoutContext) {
    const p = parse(text);
    const path = ctx.bootPath(overlay);
    const own = ownEntry(p);
    if (own) {
      const list = overlaysOf(own);
      if (list.includes(path)) return text;
      const ov = own.directives.get('OVERLAYS')!;
      p.lines[ov.line] = `${ov.indent}OVERLAYS ${[...list, path].join(',')}`;
      if (p.defaultLabel !== LABEL) p.lines[p.defaultLine] = `DEFAULT ${LABEL}`;
      return fromLines(p.lines, p.eol);
    }
    if (p.entries.length >= MAX_ENTRIES) {
      throw bad(
        p.entries.at(-1)!.start + 1,
        p.lines[p.entries.at(-1)!.start]!,
        `already ${MAX_ENTRIES} entries (L4TLauncher's limit)`,
      );
    }
    const base = p.entries.find((e) => e.label === p.defaultLabel)!;
    const d = base.directives;
    const linux = d.get('LINUX');
    if (!linux) throw bad(base.start + 1, p.lines[base.start]!, 'default entry has no LINUX');
    let fdt = d.get('FDT')?.value;
    if (!fdt) {
      if (ctx.fdtCandidates.length !== 1) {
        throw dtError(
          'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
          `${FILE}: the default entry ${base.label} has no FDT line and ${
            ctx.fdtCandidates.length === 0 ? 'no' : 'more than one'
          } /boot/dtb/kernel_*.dtb exists (${ctx.fdtCandidates.join(', ')}); L4TLauncher applies OVERLAYS only with FDT, and EdgeFlow will not guess which DTB boots: add an FDT line to ${base.label}`,
        );
      }
      fdt = ctx.fdtCandidates[0]!;
    }
    const ind = linux.indent || '      ';
    const block = [
      '',
      `LABEL ${LABEL}`,
      `${ind}MENU LABEL ${MENU_PREFIX}${base.label})`,
      `${ind}LINUX ${linux.value}`,
      `${ind}FDT ${fdt}`,
    ];
    const initrd = d.get('INITRD');
    if (initrd) block.push(`${ind}INITRD ${initrd.value}`);
    const append = d.get('APPEND');
    if (append) block.push(`${ind}APPEND ${append.value}`);
    block.push(`${ind}OVERLAYS ${[...overlaysOf(base), path].join(',')}`);
    p.lines.splice(base.last + 1, 0, ...block);
    p.lines[p.defaultLine] = `DEFAULT ${LABEL}`;
    return fromLines(p.lines, p.eol);
  },

  remove(text, overlay, ctx: LayoutContext) {
    const p = parse(text);
    const own = ownEntry(p);
    const path = ctx.bootPath(overlay);
    const list = overlaysOf(own);
    if (!own || !list.includes(path)) return text;
    const rest = list.filter((x) => x !== path);
    if (rest.some((x) => nameOf(x) !== undefined)) {
      const ov = own.directives.get('OVERLAYS')!;
      p.lines[ov.line] = `${ov.indent}OVERLAYS ${rest.join(',')}`;
      return fromLines(p.lines, p.eol);
    }
    // Last EdgeFlow overlay: drop the entry (and the blank line EdgeFlow put before it) and
    // give DEFAULT back to the fallback entry, unless someone pointed DEFAULT elsewhere since.
    const fallback = own.directives
      .get('MENU LABEL')!
      .value.slice(MENU_PREFIX.length)
      .replace(/\)$/, '');
    const from = own.start > 0 && p.lines[own.start - 1] === '' ? own.start - 1 : own.start;
    p.lines.splice(from, own.last - from + 1);
    if (p.defaultLabel === LABEL && p.entries.some((e) => e.label === fallback)) {
      p.lines[p.defaultLine] = `DEFAULT ${fallback}`;
    }
    return fromLines(p.lines, p.eol);
  },
};
