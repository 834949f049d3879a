import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidListeningOn, unitState, type UnitState } from './systemd-unit.js';

/** Where OTA releases live on a device (docs/ota.md "On-disk layout"). */
export const OTA_ROOT = '/opt/edgeflow';

/** Who serves the agent URL at one moment, and whether systemd's unit is that process. */
export interface ServingProbe {
  /** Wall-clock ms of the probe. */
  readonly at: number;
  /** GET /healthz answered. */
  readonly healthy: boolean;
  readonly unit: UnitState | { readonly error: string };
  /** The process listening on the URL's port (from /proc), null when not visible. */
  readonly pid: number | null;
  /** The unit's main process command line (NUL separators as spaces), bounded. */
  readonly cmdline: string | null;
  /** The OTA release that command line runs (`<root>/releases/<v>/…`), null for none. */
  readonly release: string | null;
}

/**
 * The OTA release a command line runs from: the shipped launcher resolves
 * `/opt/edgeflow/current` with `readlink -f` before it execs node (packaging/build-release.sh),
 * so the agent's command line names `<root>/releases/<version>/`.
 */
export function releaseOfCmdline(cmdline: string, root = OTA_ROOT): string | null {
  const prefix = `${root.replace(/\/+$/, '')}/releases/`;
  for (const arg of cmdline.split(/[\0 ]/)) {
    if (!arg.startsWith(prefix)) continue;
    const v = arg.slice(prefix.length).split('/')[0];
    if (v) return v;
  }
  return null;
}

/** The port an agent URL listens on. */
export function urlPort(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

/**
 * Probes the agent as systemd runs it: health, the unit's state, the process serving the URL and
 * the release its command line names. The /proc walk is done only when health answers (it reads
 * every process's descriptors).
 */
export async function probeServing(
  unit: string,
  url: string,
  healthy: () => Promise<boolean>,
  root = OTA_ROOT,
): Promise<ServingProbe> {
  const ok = await healthy().catch(() => false);
  const u = unitState(unit);
  const mainPid = 'error' in u ? 0 : u.mainPid;
  const cmdline =
    mainPid > 0
      ? await readFile(join('/proc', String(mainPid), 'cmdline'), 'utf8')
          .then((s) => s.replace(/\0+$/, '').replaceAll('\0', ' ').slice(0, 500))
          .catch(() => null)
      : null;
  return {
    at: Date.now(),
    healthy: ok,
    unit: u,
    pid: ok ? ((await pidListeningOn(urlPort(url))) ?? null) : null,
    cmdline,
    release: cmdline === null ? null : releaseOfCmdline(cmdline, root),
  };
}

/** Whether the probe shows the unit's main process serving the URL (and answering). */
export function unitServes(p: ServingProbe): boolean {
  return (
    p.healthy &&
    !('error' in p.unit) &&
    p.unit.activeState === 'active' &&
    p.unit.mainPid > 0 &&
    p.pid === p.unit.mainPid
  );
}

/** Why a probe does not show the unit serving the URL (for details and errors). */
export function whyNotServing(p: ServingProbe, url: string): string {
  if ('error' in p.unit) return `no systemd unit state: ${p.unit.error}`;
  if (p.unit.activeState !== 'active' || p.unit.mainPid === 0)
    return `unit ${p.unit.unit} is ${p.unit.activeState}, no main process`;
  if (!p.healthy) return `${url} does not answer GET /healthz`;
  if (p.pid === null) return `cannot tell which process serves ${url} (run the suite as root)`;
  if (p.pid !== p.unit.mainPid)
    return `${url} is served by PID ${p.pid}, not by ${p.unit.unit} (main PID ${p.unit.mainPid})`;
  return `${p.unit.unit} main PID ${p.unit.mainPid} serves ${url}`;
}
