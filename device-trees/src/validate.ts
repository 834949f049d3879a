/**
 * Validation of every overlay against real base DTBs (fetched by scripts/fetch-base-dtbs.sh):
 * compile with `dtc -@`, apply with `fdtoverlay`, then read back with `fdtget` every property
 * each fragment sets, phandles included (a fixed-up phandle must point at the node its label
 * names in the base). A check that cannot run says exactly why; nothing is reported as passed
 * that did not run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { child, overlayFixups, parseFdt, stringList, type FdtNode } from './fdt.js';
import { compileOverlay, runCommand, type RunFn } from './dtc.js';
import { DtError } from './errors.js';
import { OVERLAYS } from './catalog.js';

export type CheckStatus = 'pass' | 'fail' | 'not-run';

export interface Check {
  readonly board: string;
  readonly overlay: string;
  readonly base: string;
  readonly check: 'compile' | 'base-identity' | 'apply' | 'properties';
  readonly status: CheckStatus;
  readonly detail: string;
}

/** A base DTB and where it came from. */
export interface BaseDtb {
  readonly id: string;
  readonly path: string;
  readonly provenance: string;
}

export interface BoardBases {
  readonly board: string;
  readonly bases: readonly BaseDtb[];
  /** Rebuilt-without-@ vs Debian's DTB pairs that must be byte-identical. */
  readonly identity?: { readonly rebuilt: string; readonly debian: string };
}

/** The bases under `<cache>/base` for each board. */
export function basesFor(cache: string): BoardBases[] {
  const deb = (f: string) => join(cache, 'base/debian', f);
  const reb = (f: string) => join(cache, 'base/rebuilt', f);
  const rk = (board: string, dtb: string): BoardBases => ({
    board,
    bases: [
      {
        id: `debian:${dtb}.dtb`,
        path: deb(`${dtb}.dtb`),
        provenance: "Debian's arm64 kernel package, as shipped (built without -@)",
      },
      {
        id: `rebuilt-@:${dtb}.dtb`,
        path: reb(`${dtb}.dtb`),
        provenance: 'same kernel version, same .dts from linux-source, compiled here with dtc -@',
      },
    ],
    identity: { rebuilt: reb(`${dtb}.nosym.dtb`), debian: deb(`${dtb}.dtb`) },
  });
  return [
    {
      board: 'rpi5',
      bases: [
        {
          id: 'debian:bcm2712-rpi-5-b.dtb',
          path: deb('bcm2712-rpi-5-b.dtb'),
          provenance: "Debian's arm64 kernel package (mainline DTB, no RP1 nodes)",
        },
      ],
    },
    rk('rock-5b', 'rk3588-rock-5b'),
    rk('orangepi-5', 'rk3588s-orangepi-5'),
    {
      board: 'jetson-orin-nano',
      bases: [
        {
          id: 'rebuilt-@:tegra234-p3768-0000+p3767-0005.dtb',
          path: reb('tegra234-p3768-0000+p3767-0005.dtb'),
          provenance:
            'mainline .dts from linux-source compiled here with -@ (Debian ships no tegra234 DTB)',
        },
      ],
    },
  ];
}

async function fdtget(run: RunFn, dtb: string, args: string[]): Promise<string | undefined> {
  const r = await run('fdtget', [...args.slice(0, -2), dtb, ...args.slice(-2)]);
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

/** Resolve a fragment's target in the base: target-path, or a label through __symbols__. */
function fragmentTargets(
  ov: FdtNode,
  symbols: ReadonlyMap<string, string>,
): { frag: FdtNode; path: string | undefined; label?: string }[] {
  const fixups = child(ov, '__fixups__');
  const out = [];
  for (const frag of ov.children.filter((c) => child(c, '__overlay__'))) {
    const tp = frag.props.get('target-path');
    if (tp) {
      out.push({ frag, path: stringList(tp)[0] });
      continue;
    }
    const label = [...(fixups?.props ?? new Map<string, Buffer>())].find(([, v]) =>
      stringList(v).includes(`/${frag.name}:target:0`),
    )?.[0];
    out.push({ frag, path: label ? symbols.get(label) : undefined, ...(label ? { label } : {}) });
  }
  return out;
}

/** phandle fixups of the overlay: `/<frag>/__overlay__[/node]:prop` → [{label, cell}] */
function phandleFixups(ov: FdtNode): Map<string, { label: string; cell: number }[]> {
  const m = new Map<string, { label: string; cell: number }[]>();
  for (const [label, v] of child(ov, '__fixups__')?.props ?? []) {
    for (const ref of stringList(v)) {
      const [path, prop, off] = ref.split(':');
      if (prop === 'target') continue;
      const key = `${path}:${prop}`;
      m.set(key, [...(m.get(key) ?? []), { label, cell: Number(off) / 4 }]);
    }
  }
  return m;
}

/** Check every property an applied overlay sets, with fdtget on the result. */
async function checkProperties(
  run: RunFn,
  out: string,
  ov: FdtNode,
  symbols: Map<string, string>,
): Promise<{ ok: boolean; detail: string }> {
  const fix = phandleFixups(ov);
  let checked = 0;
  const problems: string[] = [];
  const visit = async (node: FdtNode, ovPath: string, basePath: string): Promise<void> => {
    for (const [prop, value] of node.props) {
      const refs = fix.get(`${ovPath}:${prop}`);
      const got = await fdtget(run, out, ['-t', refs ? 'x' : 'bx', basePath, prop]);
      checked++;
      if (got === undefined) {
        problems.push(`${basePath} ${prop}: missing`);
      } else if (refs) {
        const cells = got.split(/\s+/).map((h) => parseInt(h, 16));
        for (const r of refs) {
          const target = symbols.get(r.label);
          const ph = target ? await fdtget(run, out, ['-t', 'x', target, 'phandle']) : undefined;
          if (ph === undefined || parseInt(ph, 16) !== cells[r.cell]) {
            problems.push(
              `${basePath} ${prop}[${r.cell}]: phandle ${cells[r.cell]} is not &${r.label} (${target ?? 'no such label'})`,
            );
          }
        }
      } else {
        const want = [...value].map((b) => b.toString(16)).join(' ');
        if (got !== want) problems.push(`${basePath} ${prop}: got ${got}, want ${want}`);
      }
    }
    for (const c of node.children)
      await visit(c, `${ovPath}/${c.name}`, `${basePath === '/' ? '' : basePath}/${c.name}`);
  };
  for (const frag of ov.children.filter((c) => child(c, '__overlay__'))) {
    const target = fragmentTargets(ov, symbols).find((t) => t.frag === frag)?.path;
    if (target) await visit(child(frag, '__overlay__')!, `/${frag.name}/__overlay__`, target);
  }
  return {
    ok: problems.length === 0 && checked > 0,
    detail: problems.length
      ? problems.join('; ')
      : `${checked} properties read back with fdtget and matched`,
  };
}

async function symbolsOf(dtb: string): Promise<Map<string, string>> {
  const root = parseFdt(await readFile(dtb), dtb);
  const sym = child(root, '__symbols__');
  return new Map([...(sym?.props ?? [])].map(([k, v]) => [k, stringList(v)[0] ?? '']));
}

/** Validate all overlays of all boards. `pkgRoot` holds overlays/ and receives build/ and tmp files. */
export async function validateAll(
  pkgRoot: string,
  cache: string,
  run: RunFn = runCommand,
): Promise<Check[]> {
  const checks: Check[] = [];
  for (const bb of basesFor(cache)) {
    if (bb.identity) checks.push(await baseIdentity(bb, bb.identity));
    await mkdir(join(pkgRoot, 'build', bb.board), { recursive: true });
    for (const o of OVERLAYS) {
      const dtbo = join(pkgRoot, 'build', bb.board, `${o.name}.dtbo`);
      const compiled = await compileCheck(pkgRoot, bb.board, o.name, dtbo, run);
      checks.push(compiled);
      if (compiled.status !== 'pass') continue;
      const ov = parseFdt(await readFile(dtbo), dtbo);
      for (const base of bb.bases)
        checks.push(
          ...(await checksOnBase(
            pkgRoot,
            { board: bb.board, overlay: o.name, dtbo, ov },
            base,
            run,
          )),
        );
    }
  }
  return checks;
}

/** Whether the -@ rebuild of the Debian DTB is that DTB (compiled without -@) byte for byte. */
async function baseIdentity(
  bb: BoardBases,
  identity: NonNullable<BoardBases['identity']>,
): Promise<Check> {
  const [a, b] = await Promise.all([readFile(identity.rebuilt), readFile(identity.debian)]);
  return {
    board: bb.board,
    overlay: '-',
    base: bb.bases[0]!.id,
    check: 'base-identity',
    status: a.equals(b) ? 'pass' : 'fail',
    detail: a.equals(b)
      ? 'linux-source .dts compiled without -@ is byte-identical to the Debian DTB, so the -@ rebuild is that DTB plus __symbols__'
      : "rebuilt DTB differs from Debian's: the -@ base is not a faithful stand-in",
  };
}

/** `dtc -@` of one overlay source into `dtbo`: pass, or fail with dtc's message. */
async function compileCheck(
  pkgRoot: string,
  board: string,
  overlay: string,
  dtbo: string,
  run: RunFn,
): Promise<Check> {
  const dts = join(pkgRoot, 'overlays', board, `${overlay}.dts`);
  const check = { board, overlay, base: '-', check: 'compile' } as const;
  try {
    await compileOverlay(dts, dtbo, run);
    return { ...check, status: 'pass', detail: 'dtc -@: no errors, no warnings' };
  } catch (e) {
    return { ...check, status: 'fail', detail: e instanceof DtError ? e.message : String(e) };
  }
}

/** A compiled overlay of one board. */
interface Compiled {
  readonly board: string;
  readonly overlay: string;
  readonly dtbo: string;
  readonly ov: FdtNode;
}

/**
 * Apply (fdtoverlay) and properties (fdtget) of one compiled overlay on one base: both not run,
 * with the reason, when the base lacks a label the overlay needs.
 */
async function checksOnBase(
  pkgRoot: string,
  o: Compiled,
  base: BaseDtb,
  run: RunFn,
): Promise<Check[]> {
  const at = { board: o.board, overlay: o.overlay, base: base.id };
  const symbols = await symbolsOf(base.path);
  const missing = overlayFixups(o.ov).filter((l) => !symbols.has(l));
  const noTarget = fragmentTargets(o.ov, symbols).filter((t) => t.path === undefined && !t.label);
  if (missing.length > 0 || noTarget.length > 0) {
    const why =
      symbols.size === 0
        ? `base has no __symbols__ (built without -@) and the overlay needs labels ${missing.join(', ')}`
        : `base lacks the labels ${missing.join(', ')} that the overlay needs`;
    return [
      { ...at, check: 'apply', status: 'not-run', detail: why },
      { ...at, check: 'properties', status: 'not-run', detail: 'overlay not applied' },
    ];
  }
  const outDir = join(pkgRoot, 'build', 'validation', o.board);
  await mkdir(outDir, { recursive: true });
  const out = join(outDir, `${o.overlay}+${base.id.replace(/[^a-z0-9.+-]+/gi, '_')}`);
  const r = await run('fdtoverlay', ['-i', base.path, '-o', out, o.dtbo]);
  if (r.code !== 0) return [{ ...at, check: 'apply', status: 'fail', detail: r.stderr.trim() }];
  const p = await checkProperties(run, out, o.ov, symbols);
  return [
    { ...at, check: 'apply', status: 'pass', detail: 'fdtoverlay applied it' },
    { ...at, check: 'properties', status: p.ok ? 'pass' : 'fail', detail: p.detail },
  ];
}

const MARK: Record<CheckStatus, string> = { pass: 'pass', fail: 'FAIL', 'not-run': 'not run' };

/** Markdown report: one table per board, and every check that did not pass with its reason. */
export function renderReport(checks: readonly Check[], kernel: string): string {
  const lines = [
    `# Device-tree overlay validation`,
    '',
    `Bases: ${kernel} (Debian trixie arm64), fetched by device-trees/scripts/fetch-base-dtbs.sh.`,
    '',
  ];
  for (const board of [...new Set(checks.map((c) => c.board))]) {
    const bc = checks.filter((c) => c.board === board);
    lines.push(`## ${board}`, '');
    for (const c of bc.filter((c) => c.check === 'base-identity'))
      lines.push(`- base identity (${c.base}): ${MARK[c.status]}: ${c.detail}`);
    const bases = [
      ...new Set(
        bc.filter((c) => c.base !== '-' && c.check !== 'base-identity').map((c) => c.base),
      ),
    ];
    lines.push(
      '',
      `| overlay | compile | ${bases.map((b) => `apply + fdtget on ${b}`).join(' | ')} |`,
      `|---|---|${bases.map(() => '---|').join('')}`,
    );
    for (const o of [...new Set(bc.filter((c) => c.overlay !== '-').map((c) => c.overlay))]) {
      const get = (check: Check['check'], base: string) =>
        bc.find((c) => c.overlay === o && c.check === check && c.base === base);
      const compile = get('compile', '-');
      const cells = bases.map((b) => {
        const a = get('apply', b);
        const p = get('properties', b);
        if (!a) return '-';
        if (a.status !== 'pass') return `${MARK[a.status]}`;
        return `applied, properties ${MARK[p?.status ?? 'not-run']}`;
      });
      lines.push(`| ${o} | ${MARK[compile?.status ?? 'not-run']} | ${cells.join(' | ')} |`);
    }
    const reasons = [
      ...new Set(
        bc
          .filter((c) => c.status !== 'pass' && c.check === 'apply')
          .map((c) => `${c.base}: ${c.detail}`),
      ),
    ];
    if (reasons.length)
      lines.push('', 'Not run / failed, and why:', ...reasons.map((r) => `- ${r}`));
    lines.push('');
  }
  return lines.join('\n');
}
