import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { bootContainer } from '@edgeflow/ota/testing/nspawn';
import type { BootOptions, Container } from '@edgeflow/ota/testing/nspawn';

export const UNIT = 'edgeflow-agent.service';

/** A Debian 12 root filesystem booted with systemd in nspawn, where the .deb files are installed. */
export interface PackagedBox {
  readonly c: Container;
  /** Host directory bound read-only at /srv/test (bundles, keys, debs). */
  readonly host: string;
  ok(argv: string[]): string;
  show(prop: string): string;
  journal(): string;
  /** GET on the agent's HTTP API inside the container (curl). */
  get(path: string, port?: number): { status: number; body: string };
  /** A QoS 2 reading published with mosquitto_pub. */
  publish(topic: string, value: string): void;
  /** Runs a host program in the container's network namespace only (never throws on status). */
  inNet(argv: readonly string[]): { status: number; stdout: string; stderr: string };
  /**
   * Starts a host program in the container's network namespace only (its 127.0.0.1), stopped
   * when the test ends: a native swtpm for the emulated arm64 box.
   */
  spawnInNet(argv: readonly string[]): ChildProcess;
  waitActive(what: string): Promise<void>;
  /** READY=1 minus main process start, from systemd's own timestamps (ms). */
  startToReadyMs(): number;
}

/**
 * Runs `dpkg -i` (or any command) in the root filesystem without booting it: no systemd runs, as in
 * an image build or a chroot. The overlay keeps the cached tree unchanged.
 */
export function runUnbooted(
  dir: string,
  binds: readonly string[],
  argv: readonly string[],
  timeoutMs = 120_000,
): { status: number; out: string } {
  const r = spawnSync(
    'systemd-nspawn',
    [
      '-D',
      dir,
      '--volatile=overlay',
      '--register=no',
      '--keep-unit',
      '--quiet',
      ...binds,
      '--',
      ...argv,
    ],
    { encoding: 'utf8', timeout: timeoutMs },
  );
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

export interface PackagedBoxOptions extends Omit<BootOptions, 'directory' | 'repoFiles'> {
  /** A drop-in for the agent unit (zz-test.conf), e.g. shorter timeouts. */
  readonly dropin?: string;
  /**
   * Run curl and mosquitto_pub from the host in the container's network namespace instead of
   * inside it: the emulated arm64 root filesystem then needs neither (each package costs minutes
   * of emulated dpkg configure when it is built). The agent sees the same loopback client.
   */
  readonly hostClients?: boolean;
}

export async function bootPackagedBox(
  t: TestContext,
  dir: string,
  debs: string,
  o: PackagedBoxOptions = {},
): Promise<PackagedBox> {
  const host = await mkdtemp(join(tmpdir(), 'ef-pkg-sys-'));
  await chmod(host, 0o755);
  const binds = [`--bind-ro=${debs}:/srv/debs`, `--bind-ro=${host}:/srv/test`];
  if (o.dropin !== undefined) {
    await writeFile(join(host, 'zz-test.conf'), o.dropin);
    binds.push(
      `--bind-ro=${join(host, 'zz-test.conf')}:/etc/systemd/system/${UNIT}.d/zz-test.conf`,
    );
  }
  // No repository files: the package must bring its sysusers.d and tmpfiles.d (and its runtime).
  const c = await bootContainer(binds, join(host, 'console.log'), (s) => t.diagnostic(s), {
    ...o,
    directory: dir,
    repoFiles: false,
  });
  const spawned: ChildProcess[] = [];
  t.after(async () => {
    for (const p of spawned) p.kill('SIGTERM');
    await c.stop();
  });
  const inNet = (argv: readonly string[]): { status: number; stdout: string; stderr: string } => {
    const r = spawnSync('nsenter', ['-t', String(c.leader), '-n', '--', ...argv], {
      encoding: 'utf8',
      timeout: o.execTimeoutMs ?? 60_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  // A client command: inside the container, or the host's in the container's network namespace.
  const client = (argv: readonly string[]): { status: number; stdout: string; stderr: string } =>
    o.hostClients === true ? inNet(argv) : c.exec(argv);
  const ok = (argv: string[]): string => {
    const r = c.exec(argv);
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const show = (prop: string): string =>
    c.exec(['systemctl', 'show', '-P', prop, UNIT]).stdout.trim();
  const journal = (): string =>
    c.exec(['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat']).stdout;
  return {
    c,
    host,
    ok,
    show,
    journal,
    get(path, port = 8080) {
      const r = client(['curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`]);
      const lines = r.stdout.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n') };
    },
    publish(topic, value) {
      const r = client(['mosquitto_pub', '-h', '127.0.0.1', '-q', '2', '-t', topic, '-m', value]);
      assert.equal(r.status, 0, `mosquitto_pub: ${r.stdout}\n${r.stderr}`);
    },
    inNet,
    spawnInNet(argv) {
      const p = spawn('nsenter', ['-t', String(c.leader), '-n', '--', ...argv], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      spawned.push(p);
      return p;
    },
    async waitActive(what) {
      await c.waitFor(
        what,
        () =>
          show('ActiveState') === 'active' && show('SubState') === 'running' ? true : undefined,
        o.execTimeoutMs ?? 60_000,
      );
    },
    startToReadyMs() {
      const main = Number(show('ExecMainStartTimestampMonotonic'));
      const ready = Number(show('ActiveEnterTimestampMonotonic'));
      return (ready - main) / 1000;
    },
  };
}
