// The device of the OTA drill's system test: systemd 252 as PID 1 in nspawn running the real
// agent as edgeflow-agent.service (the shipped units and OTA hooks, unchanged; only timeouts
// shortened), installed through the real OTA tool as release 1.0.0, with a swtpm inside and
// edgeready run inside the container as an operator would on the board.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_NODE, DEV_SRC, bootContainer, devInstall } from '@edgeflow/ota/testing/nspawn';
import type { Container } from '@edgeflow/ota/testing/nspawn';
import { makeBundle, makeKeys, tempDir } from '@edgeflow/ota/testing/releases';
import type { Report } from '../../src/report/build.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const UNIT = 'edgeflow-agent.service';
const ETC = '/etc/systemd/system';
/** The host directory bound at /opt/edgeflow/test inside (bundles, keys, run outputs). */
export const IN_TEST = '/opt/edgeflow/test';
export const AGENT_URL = 'http://127.0.0.1:8080';
const TPM_PORT = 2321;

export interface Device {
  readonly c: Container;
  /** Host path of /opt/edgeflow/test. */
  readonly test: string;
  /** Host path of the release 1.0.0 tree (what the device runs). */
  readonly release: string;
  /** The fleet signing key (PEM) the device trusts. */
  readonly keyPem: string;
  run(argv: readonly string[]): { status: number; stdout: string; stderr: string };
  journal(): string;
  show(prop: string): string;
}

/**
 * A release laid out as packaging/build-release.sh lays one out: `bin/edgeflow` resolves the
 * `current` link and execs node on the release's own `agent/dist/src/cli.js`, so the agent's
 * command line names its release directory. The entry loads the repository's agent.
 */
export async function agentRelease(dir: string, name: string): Promise<string> {
  const rel = join(dir, name);
  await mkdir(join(rel, 'bin'), { recursive: true });
  await mkdir(join(rel, 'agent/dist/src'), { recursive: true });
  await writeFile(
    join(rel, 'bin/edgeflow'),
    `#!/bin/sh\nhere=$(dirname "$(readlink -f "$0")")/..\nexec ${DEV_NODE} "$here/agent/dist/src/cli.js" "$@"\n`,
  );
  await chmod(join(rel, 'bin/edgeflow'), 0o755);
  await writeFile(
    join(rel, 'agent/dist/src/cli.js'),
    `'use strict';\n// Test release: the repository's agent.\nimport(${JSON.stringify(`${DEV_SRC}/agent/dist/src/cli.js`)}).catch((e) => { console.error(e); process.exit(1); });\n`,
  );
  return rel;
}

/** Boots the device and installs release 1.0.0 (committed) through the OTA tool; agent READY. */
export async function bootDevice(log: (s: string) => void): Promise<Device> {
  const host = await tempDir('er-ota-drill-');
  const opt = join(host, 'opt');
  const test = join(opt, 'test');
  await mkdir(join(opt, 'keys'), { recursive: true });
  await mkdir(join(test, 'runs'), { recursive: true });
  const keys = await makeKeys(host, 'fleet');
  await copyFile(join(keys.keysDir, 'fleet.pub'), join(opt, 'keys', 'fleet.pub'));
  await writeFile(join(test, 'fleet.key'), keys.privatePem, { mode: 0o600 });
  const release = await agentRelease(host, 'release-1.0.0');
  await copyFile(
    await makeBundle(host, release, '1.0.0', keys.privatePem, { boards: ['*'] }),
    join(test, '1.0.0.tar.gz'),
  );
  const token = randomBytes(32).toString('hex');
  await writeFile(join(test, 'token'), `${token}\n`, { mode: 0o600 });
  const config = {
    // Debug: the agent logs each HTTP request, so a run of seconds has agent records in its
    // journal (ER-SYS-AGENT-LOG fails a run whose journal holds none).
    log: { level: 'debug' },
    hal: { board: 'sim' },
    http: {
      apiTokens: [{ name: 'verifier', sha256: createHash('sha256').update(token).digest('hex') }],
    },
    attestation: {
      tcti: `swtpm:host=127.0.0.1,port=${TPM_PORT}`,
      access: { apiTokens: ['verifier'] },
    },
    selftest: { access: { apiTokens: ['verifier'] } },
    ota: { healthIntervalSec: 1 },
  };
  await writeFile(join(test, 'config.json'), JSON.stringify(config));
  await writeFile(join(test, 'agent.env'), 'EDGEFLOW_CONFIG=/etc/edgeflow/config.json\n');
  // Shorter than the shipped timeouts so that a failing release costs seconds, not minutes.
  await writeFile(join(host, 'zz-test.conf'), '[Service]\nRestartSec=500ms\nTimeoutStartSec=60s\n');
  // A volatile /etc is a first boot: presets would start the agent before anything is installed.
  await writeFile(join(host, 'test.preset'), 'disable *\n');
  const sd = join(repo, 'systemd');
  const c = await bootContainer(
    [
      `--bind=${opt}:/opt/edgeflow`,
      ...devInstall(repo, host, { current: false }),
      ...[
        UNIT,
        'edgeflow-ota-rollback.service',
        'edgeflow-ota-check.service',
        'edgeflow-ota-check.timer',
      ].map((u) => `--bind-ro=${join(sd, u)}:${ETC}/${u}`),
      `--bind-ro=${join(sd, 'edgeflow-agent.service.d/ota.conf')}:${ETC}/${UNIT}.d/ota.conf`,
      `--bind-ro=${join(host, 'zz-test.conf')}:${ETC}/${UNIT}.d/zz-test.conf`,
      `--bind-ro=${join(host, 'test.preset')}:/etc/systemd/system-preset/00-edgeflow-test.preset`,
    ],
    join(host, 'console.log'),
    log,
    { execTimeoutMs: 900_000 },
  );
  const must = (argv: string[]): string => {
    const r = c.exec(argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const d: Device = {
    c,
    test,
    release,
    keyPem: keys.privatePem,
    run: (argv) => c.exec(argv),
    journal: () => c.exec(['journalctl', '-u', UNIT, '-o', 'cat', '--no-pager']).stdout,
    show: (prop) => c.exec(['systemctl', 'show', '-P', prop, UNIT]).stdout.trim(),
  };
  try {
    for (const f of ['config.json', 'agent.env'])
      must(['install', '-m', '0640', '-g', 'edgeflow', `${IN_TEST}/${f}`, `/etc/edgeflow/${f}`]);
    must(['mkdir', '-p', '/var/lib/edgeready-tpm']);
    must([
      'systemd-run',
      '--unit=edgeready-swtpm',
      'swtpm',
      'socket',
      '--tpm2',
      '--tpmstate',
      'dir=/var/lib/edgeready-tpm',
      '--server',
      `type=tcp,port=${TPM_PORT},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${TPM_PORT + 1},bindaddr=127.0.0.1`,
      '--flags',
      'not-need-init,startup-clear',
    ]);
    must([
      '/opt/edgeflow/tool/bin/edgeflow-ota',
      'install',
      `${IN_TEST}/1.0.0.tar.gz`,
      '--board',
      'sim',
      '--no-restart',
    ]);
    // Type=notify: start returns once the agent sent READY=1.
    must(['systemctl', 'start', UNIT]);
  } catch (e) {
    await c.stop();
    throw new Error(`${(e as Error).message}\n${d.journal().slice(-3000)}`, { cause: e });
  }
  return d;
}

/** `edgeready …` inside the container (the suite of the repository, on the test's Node). */
export function edgeready(d: Device, argv: readonly string[]) {
  return d.c.exec([DEV_NODE, `${DEV_SRC}/edgeready-suite/dist/src/cli.js`, ...argv]);
}

/** A report written inside the container, read from the host. */
export async function readReport(d: Device, run: string): Promise<Report> {
  return JSON.parse(await readFile(join(d.test, 'runs', run, 'report.json'), 'utf8')) as Report;
}
