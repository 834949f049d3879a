import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

export async function bootPackagedBox(
  t: TestContext,
  dir: string,
  debs: string,
  o: BootOptions & { dropin?: string } = {},
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
  const c = await bootContainer(binds, join(host, 'console.log'), (s) => t.diagnostic(s), {
    ...o,
    directory: dir,
  });
  t.after(() => c.stop());
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
      const r = c.exec(['curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`]);
      const lines = r.stdout.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n') };
    },
    publish(topic, value) {
      ok(['mosquitto_pub', '-h', '127.0.0.1', '-q', '2', '-t', topic, '-m', value]);
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
