import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository's systemd/ directory (from dist/test/helpers/). */
const SYSTEMD_DIR = fileURLToPath(new URL('../../../../systemd/', import.meta.url));

/** Why the nspawn system tests cannot run here, or undefined when they can. */
export function nspawnMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn)';
  for (const tool of ['systemd-nspawn', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `needs ${tool}: run scripts/install-deps.sh (systemd-container)`;
  }
  return undefined;
}

export interface Container {
  /** PID of the container's systemd (PID 1 inside). */
  readonly leader: number;
  /** Runs a command inside the container (all namespaces); never throws on exit status. */
  exec(
    argv: readonly string[],
    env?: Record<string, string>,
  ): { status: number; stdout: string; stderr: string };
  /** Polls `probe` (an external process's state: no event to wait on) until it returns a value. */
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(n));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The repository's files a booted container gets unless `repoFiles: false`. */
function repoFileBinds(): string[] {
  return [
    // The native addons (sd-notify) were built by `npm ci` for the Node running the tests, so
    // that Node is /usr/bin/node inside the container.
    ...(realpathSync(process.execPath) === '/usr/bin/node'
      ? []
      : [`--bind-ro=${realpathSync(process.execPath)}:/usr/bin/node`]),
    // The project's sysusers.d (the edgeflow group the agent unit needs) and tmpfiles.d (the
    // root-owned layout), as a package installs them; systemd applies both while it boots.
    `--bind-ro=${join(SYSTEMD_DIR, 'sysusers.d/edgeflow.conf')}:/etc/sysusers.d/edgeflow.conf`,
    `--bind-ro=${join(SYSTEMD_DIR, 'tmpfiles.d/edgeflow-ota.conf')}:/etc/tmpfiles.d/edgeflow-ota.conf`,
  ];
}

export interface BootOptions {
  /** A root filesystem to boot instead of the host's `/` (kept unchanged: --volatile=overlay). */
  readonly directory?: string;
  /** Boot and exec() limits; an emulated (qemu-user) root needs more than the default 60 s. */
  readonly bootTimeoutMs?: number;
  readonly execTimeoutMs?: number;
  /**
   * Bind the repository's sysusers.d and tmpfiles.d files and this test's Node as /usr/bin/node
   * (default true). False for a root filesystem where an installed package must provide them
   * itself (the .deb system tests: a bind would hide a package that forgot them).
   */
  readonly repoFiles?: boolean;
}

/**
 * Boots systemd as PID 1 in `systemd-nspawn -D / --volatile=yes` (or `-D DIR --volatile=overlay`) (RECIPES.md "systemd under test")
 * with extra bind mounts, and waits until the system is up.
 */
export async function bootContainer(
  binds: readonly string[],
  consoleLog: string,
  log: (s: string) => void,
  o: BootOptions = {},
): Promise<Container> {
  const bootMs = o.bootTimeoutMs ?? 60_000;
  const args = [
    '-D',
    o.directory ?? '/',
    `--volatile=${o.directory === undefined ? 'yes' : 'overlay'}`,
    '--private-network',
    '--register=no',
    '--keep-unit',
    '--console=pipe',
    ...(o.repoFiles === false ? [] : repoFileBinds()),
    ...binds,
    '-b',
    '--',
    'systemd.mask=binfmt-support.service',
    'systemd.mask=systemd-firstboot.service',
    'systemd.mask=mosquitto.service',
    // --private-network has no uplink: nothing may wait for network-online.
    'systemd.mask=systemd-networkd-wait-online.service',
  ];
  // The console goes to a file, not a pipe: exec() blocks the event loop (spawnSync), and a full
  // pipe would stall the container's console and with it the boot.
  const fd = openSync(consoleLog, 'w');
  const ns: ChildProcess = spawn('systemd-nspawn', args, {
    stdio: ['ignore', fd, fd],
    cwd: '/tmp',
  });
  closeSync(fd);
  let exited = false;
  ns.on('exit', () => (exited = true));
  const output = (): string => readFileSync(consoleLog, 'utf8').slice(-4000);
  const exec: Container['exec'] = (argv, env = {}) => {
    const r = spawnSync(
      'nsenter',
      [
        '-t',
        String(leader),
        '-a',
        '--',
        'env',
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...argv,
      ],
      {
        encoding: 'utf8',
        timeout: o.execTimeoutMs ?? 60_000,
      },
    );
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const waitFor: Container['waitFor'] = async (what, probe, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await delay(250);
    }
  };
  let leader = 0;
  const end = Date.now() + bootMs;
  while (!leader) {
    if (exited) throw new Error(`systemd-nspawn exited: ${output()}`);
    if (Date.now() > end) throw new Error(`container systemd did not appear: ${output()}`);
    leader = childrenOf(ns.pid ?? -1).find((p) => comm(p) === 'systemd') ?? 0;
    if (!leader) await delay(100);
  }
  // systemd exists before its bus does: retry until is-system-running answers.
  let up = exec(['systemctl', 'is-system-running', '--wait']);
  while (!/running|degraded/.test(up.stdout)) {
    if (exited || Date.now() > end)
      throw new Error(`container did not come up: ${up.stdout} ${up.stderr} ${output()}`);
    await delay(100);
    up = exec(['systemctl', 'is-system-running', '--wait']);
  }
  log(`container up (leader ${leader}): ${up.stdout.trim()}`);
  return {
    leader,
    exec,
    waitFor,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => ns.once('exit', () => r()));
      exec(['systemctl', 'poweroff', '--no-block']);
      const t = setTimeout(() => ns.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Where `devInstall` mounts the repository and this test's Node runtime inside the container. */
export const DEV_SRC = '/opt/edgeflow/src';
export const DEV_NODE = '/opt/edgeflow/node/bin/node';

/**
 * The repository laid out as the shipped units expect an install (packaging/README.md): the repo at
 * /opt/edgeflow/src and the Node running this test (Node 24 in CI) at /opt/edgeflow/node, both
 * read-only, plus, written into `dir`, a `current` release whose bin/edgeflow launcher runs the
 * repo's agent and a `tool` whose bin/edgeflow-ota runs the repo's OTA tool (its ota/ and
 * node_modules/ link to the repo, as test releases expect). Returns the nspawn bind options;
 * `current: false` leaves /opt/edgeflow/current to the OTA installer.
 */
export function devInstall(repo: string, dir: string, o: { current: boolean }): string[] {
  const launcher = (file: string, entry: string): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\nexec ${DEV_NODE} ${DEV_SRC}/${entry} "$@"\n`);
    chmodSync(file, 0o755);
  };
  launcher(join(dir, 'tool', 'bin', 'edgeflow-ota'), 'ota/dist/src/bin.js');
  symlinkSync(`${DEV_SRC}/ota`, join(dir, 'tool', 'ota'));
  symlinkSync(`${DEV_SRC}/node_modules`, join(dir, 'tool', 'node_modules'));
  const binds = [
    `--bind-ro=${repo}:${DEV_SRC}`,
    `--bind-ro=${dirname(dirname(process.execPath))}:${dirname(dirname(DEV_NODE))}`,
    `--bind-ro=${join(dir, 'tool')}:/opt/edgeflow/tool`,
  ];
  if (o.current) {
    launcher(join(dir, 'current', 'bin', 'edgeflow'), 'agent/dist/src/cli.js');
    binds.push(`--bind-ro=${join(dir, 'current')}:/opt/edgeflow/current`);
  }
  return binds;
}
