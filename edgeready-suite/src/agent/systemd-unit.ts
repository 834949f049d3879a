import { spawnSync } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** What systemd says about a unit (`systemctl show`). */
export interface UnitState {
  readonly unit: string;
  readonly activeState: string;
  readonly mainPid: number;
  readonly nRestarts: number;
  readonly invocationId: string;
  readonly fragmentPath: string;
}

/** `systemctl show UNIT`; undefined when systemctl is missing or systemd is not running. */
export function unitState(unit: string): UnitState | { error: string } {
  const r = spawnSync(
    'systemctl',
    [
      'show',
      unit,
      '--property=ActiveState,MainPID,NRestarts,InvocationID,FragmentPath',
      '--no-pager',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.error) return { error: `systemctl: ${r.error.message}` };
  if (r.status !== 0) return { error: `systemctl show ${unit}: ${r.stderr.trim()}` };
  const p = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    unit,
    activeState: p['ActiveState'] ?? '',
    mainPid: Number(p['MainPID'] ?? 0),
    nRestarts: Number(p['NRestarts'] ?? 0),
    invocationId: p['InvocationID'] ?? '',
    fragmentPath: p['FragmentPath'] ?? '',
  };
}

/** Socket inodes listening on a TCP port (/proc/net/tcp and tcp6, state 0A = LISTEN). */
async function listenInodes(root: string, port: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of ['proc/net/tcp', 'proc/net/tcp6']) {
    const text = await readFile(join(root, f), 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      const local = c[1];
      if (!local || c[3] !== '0A') continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && c[9]) out.add(c[9]);
    }
  }
  return out;
}

/**
 * The PID of the process listening on a local TCP port, found through /proc (socket inode →
 * the process holding it); undefined when not visible (another user's process without root).
 */
export async function pidListeningOn(port: number, root = '/'): Promise<number | undefined> {
  const inodes = await listenInodes(root, port);
  if (inodes.size === 0) return undefined;
  const procs = (await readdir(join(root, 'proc')).catch(() => [])).filter((n) => /^\d+$/.test(n));
  for (const pid of procs) {
    const fds = await readdir(join(root, 'proc', pid, 'fd')).catch(() => []);
    for (const fd of fds) {
      const link = await readlink(join(root, 'proc', pid, 'fd', fd)).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1] && inodes.has(m[1])) return Number(pid);
    }
  }
  return undefined;
}
