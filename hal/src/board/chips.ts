import { basename } from 'node:path';
import type { HostFs } from './host-fs.js';
import { hostPath, listDir, readText } from './host-fs.js';

/** A GPIO chip as the kernel exposes it. */
export interface ChipInfo {
  /** Kernel chip name (gpiochipN): unstable across kernels, shown for humans only. */
  readonly name: string;
  readonly label: string;
  readonly lines: number;
  /** Host path of the character device, when there is one. */
  readonly devPath?: string;
  /** Sysfs GPIO base, when the legacy sysfs interface exposes this chip. */
  readonly sysfsBase?: number;
}

/** Reads chip information from a character device (the cdev addon's chipInfo). */
export type CdevChipInfo = (path: string) => { name: string; label: string; lines: number };

/** What chip discovery needs from the world. */
export interface ChipScanDeps {
  readonly fs: HostFs;
  /** Absent when the cdev addon is unavailable: char-device labels are then unknown. */
  readonly cdevInfo?: CdevChipInfo | undefined;
}

/** A problem found while scanning, reported by `hal detect`. */
export interface ScanNote {
  readonly what: string;
  readonly why: string;
}

const CHIP_RE = /^gpiochip(\d+)$/;

function chipNumber(name: string): number {
  return Number(CHIP_RE.exec(name)?.[1] ?? Number.MAX_SAFE_INTEGER);
}

/**
 * Lists the GPIO chips under `root` from /dev/gpiochip* (labels via the cdev
 * ioctl) and /sys/class/gpio/gpiochip* (label, base, ngpio). In a fixture tree a
 * /dev/gpiochipN that is a regular file holds the JSON `{ "label", "lines" }` the
 * ioctl would return, so fixtures need no device nodes.
 */
export async function scanChips(
  root: string,
  deps: ChipScanDeps,
): Promise<{ chips: ChipInfo[]; notes: ScanNote[] }> {
  const notes: ScanNote[] = [];
  const byName = new Map<string, ChipInfo>();
  const seen = new Set<string>();
  const devDir = hostPath(root, 'dev');
  for (const entry of (await listDir(deps.fs, devDir)).filter((e) => CHIP_RE.test(e)).sort()) {
    const path = `${devDir}/${entry}`;
    let real: string;
    try {
      real = await deps.fs.realpath(path);
    } catch {
      continue;
    }
    // Pi 5 on 6.6 keeps a gpiochip4 -> gpiochip0 compatibility symlink: count it once.
    if (seen.has(real)) continue;
    seen.add(real);
    const name = basename(real);
    const st = await deps.fs.stat(real);
    if (st.isCharacterDevice()) {
      if (!deps.cdevInfo) {
        byName.set(name, { name, label: '', lines: 0, devPath: real });
        continue;
      }
      try {
        const info = deps.cdevInfo(real);
        byName.set(name, { name, label: info.label, lines: info.lines, devPath: real });
      } catch (err) {
        notes.push({ what: `${real}`, why: `cannot read chip info: ${(err as Error).message}` });
      }
    } else if (st.isFile()) {
      const raw = await readText(deps.fs, real);
      try {
        const info = JSON.parse(raw ?? '') as { label?: unknown; lines?: unknown };
        byName.set(name, {
          name,
          label: typeof info.label === 'string' ? info.label : '',
          lines: Number(info.lines ?? 0),
          devPath: real,
        });
      } catch {
        notes.push({ what: real, why: 'fixture chip file is not JSON {label, lines}' });
      }
    }
  }

  const sysDir = hostPath(root, 'sys/class/gpio');
  for (const entry of (await listDir(deps.fs, sysDir)).filter((e) => CHIP_RE.test(e))) {
    const dir = `${sysDir}/${entry}`;
    const label = (await readText(deps.fs, `${dir}/label`)) ?? '';
    const base = Number(await readText(deps.fs, `${dir}/base`));
    const lines = Number(await readText(deps.fs, `${dir}/ngpio`));
    if (!Number.isInteger(base)) continue;
    // sysfs names the directory after the base; `device` links to the real chip name.
    let name: string | undefined;
    try {
      name = basename(await deps.fs.readlink(`${dir}/device`));
    } catch {
      name = undefined;
    }
    const existing =
      (name !== undefined ? byName.get(name) : undefined) ??
      [...byName.values()].find((c) => c.label === label && c.sysfsBase === undefined);
    if (existing) {
      byName.set(existing.name, {
        ...existing,
        label: existing.label || label,
        lines: existing.lines || lines,
        sysfsBase: base,
      });
    } else {
      const n = name && CHIP_RE.test(name) ? name : `sysfs-${base}`;
      byName.set(n, { name: n, label, lines, sysfsBase: base });
    }
  }
  const chips = [...byName.values()].sort((a, b) => chipNumber(a.name) - chipNumber(b.name));
  return { chips, notes };
}

/** The chip with this label (the only stable way to name a chip). */
export function findChip(chips: readonly ChipInfo[], label: string): ChipInfo | undefined {
  return chips.find((c) => c.label === label);
}
