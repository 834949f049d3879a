import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

async function num(path: string): Promise<number | undefined> {
  try {
    const v = Number((await readFile(path, 'utf8')).trim());
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** One thermal zone: type and temperature (°C), with its critical trip point when published. */
export interface ThermalZone {
  readonly zone: string;
  readonly type: string;
  readonly tempC: number;
  readonly criticalC?: number;
}

/** Thermal zones under `<root>/sys/class/thermal`. */
export async function readThermal(root: string): Promise<ThermalZone[]> {
  const base = join(root, 'sys/class/thermal');
  const out: ThermalZone[] = [];
  for (const z of (await list(base)).filter((n) => n.startsWith('thermal_zone'))) {
    const t = await num(join(base, z, 'temp'));
    if (t === undefined) continue;
    let type = z;
    try {
      type = (await readFile(join(base, z, 'type'), 'utf8')).trim();
    } catch {
      /* type is optional */
    }
    let criticalC: number | undefined;
    for (const f of await list(join(base, z))) {
      const m = /^trip_point_(\d+)_type$/.exec(f);
      if (!m) continue;
      const kind = (await readFile(join(base, z, f), 'utf8').catch(() => '')).trim();
      const temp = await num(join(base, z, `trip_point_${m[1]}_temp`));
      if (kind === 'critical' && temp !== undefined) criticalC = temp / 1000;
    }
    out.push({ zone: z, type, tempC: t / 1000, ...(criticalC === undefined ? {} : { criticalC }) });
  }
  return out;
}

/** Current and rated CPU frequencies (MHz) under `<root>/sys/devices/system/cpu`. */
export async function readCpufreq(root: string): Promise<{ curMHz: number[]; maxMHz: number[] }> {
  const base = join(root, 'sys/devices/system/cpu');
  const cur: number[] = [];
  const max: number[] = [];
  for (const c of (await list(base)).filter((n) => /^cpu\d+$/.test(n))) {
    const f = await num(join(base, c, 'cpufreq/scaling_cur_freq'));
    const m = await num(join(base, c, 'cpufreq/cpuinfo_max_freq'));
    if (f !== undefined) cur.push(f / 1000);
    if (m !== undefined) max.push(m / 1000);
  }
  return { curMHz: cur, maxMHz: max };
}

/**
 * Thermal throttle counters: x86 `thermal_throttle/*_throttle_count` per CPU, and the Raspberry
 * Pi firmware's `get_throttled` bit field (bits 1/2 = capped/throttled now, 17/18 = since boot).
 */
export async function readThrottle(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const base = join(root, 'sys/devices/system/cpu');
  for (const c of (await list(base)).filter((n) => /^cpu\d+$/.test(n))) {
    for (const f of ['core_throttle_count', 'package_throttle_count']) {
      const v = await num(join(base, c, 'thermal_throttle', f));
      if (v !== undefined) out[`${c}/${f}`] = v;
    }
  }
  const pi = join(root, 'sys/devices/platform/soc/soc:firmware/get_throttled');
  try {
    out['rpi/get_throttled'] = parseInt((await readFile(pi, 'utf8')).trim(), 16);
  } catch {
    /* not a Pi */
  }
  return out;
}

/** Bytes under `dir` (regular files, recursive) and the used bytes of its filesystem. */
export async function diskUsage(dir: string): Promise<{ dirBytes: number; fsUsedBytes: number }> {
  let dirBytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) dirBytes += (await stat(p).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  let fsUsedBytes = 0;
  try {
    const s = await statfs(dir);
    fsUsedBytes = (s.blocks - s.bfree) * s.bsize;
  } catch {
    /* statfs unsupported */
  }
  return { dirBytes, fsUsedBytes };
}

/** This boot's id (`/proc/sys/kernel/random/boot_id`): a changed id means the host rebooted. */
export async function bootId(root = '/'): Promise<string> {
  try {
    return (await readFile(join(root, 'proc/sys/kernel/random/boot_id'), 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}
