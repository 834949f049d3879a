import { rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../../src/bundle-writer.js';
import { generateKeyPair } from '../../src/keys.js';

/** How a test release behaves once systemd starts it. */
export type Behavior =
  | 'good'
  | 'crash-after-ready'
  | 'never-ready'
  | 'hang'
  | 'bad-health'
  /** A compromised agent: does its worst in its StateDirectory, then fails its trial. */
  | 'attacker';

const created: string[] = [];
// Test temp dirs go when the test process exits (a failing run can keep them: EDGEFLOW_KEEP_TMP=1).
process.on('exit', () => {
  if (process.env.EDGEFLOW_KEEP_TMP) return;
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test process exits. */
export async function tempDir(prefix = 'ota-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

/** Writes a key pair; returns the private PEM and a trusted-keys dir holding the public key. */
export async function makeKeys(
  dir: string,
  name = 'test',
): Promise<{ privatePem: string; keysDir: string; keyId: string }> {
  const k = generateKeyPair();
  const keysDir = join(dir, `keys-${name}`);
  await mkdir(keysDir, { recursive: true });
  await writeFile(join(keysDir, `${name}.pub`), k.publicPem);
  return { privatePem: k.privatePem, keysDir, keyId: k.keyId };
}

/**
 * A tiny release: `run.sh` prints the version; `bin/edgeflow` runs `agent/dist/src/cli.js`, a stand-in for the agent
 * (the path the shipped unit's ExecStart runs) that uses sd-notify and the OTA agent API from the
 * OTA tool mounted at /opt/edgeflow/tool, and misbehaves as told.
 */
export async function makeRelease(
  dir: string,
  version: string,
  behavior: Behavior = 'good',
): Promise<string> {
  const rel = join(dir, `release-${version}-${behavior}`);
  await mkdir(join(rel, 'agent/dist/src'), { recursive: true });
  await writeFile(join(rel, 'run.sh'), `#!/bin/sh\necho ${version}\n`);
  await chmod(join(rel, 'run.sh'), 0o755);
  await writeFile(join(rel, 'agent/dist/src/cli.js'), appSource(version, behavior));
  // What the shipped unit runs (ExecStart=/opt/edgeflow/current/bin/edgeflow agent), on the test's
  // Node that nspawn.ts devInstall() mounts at /opt/edgeflow/node.
  await mkdir(join(rel, 'bin'), { recursive: true });
  await writeFile(
    join(rel, 'bin/edgeflow'),
    '#!/bin/sh\nexec /opt/edgeflow/node/bin/node "$(dirname "$(readlink -f "$0")")/../agent/dist/src/cli.js" "$@"\n',
  );
  await chmod(join(rel, 'bin/edgeflow'), 0o755);
  return rel;
}

/** Builds and signs a bundle of a release directory. */
export async function makeBundle(
  dir: string,
  release: string,
  version: string,
  privatePem: string | undefined,
  extra: { boards?: string[]; rollout?: number } = {},
): Promise<string> {
  const out = join(dir, `bundle-${version}-${Math.random().toString(36).slice(2)}.tar.gz`);
  await buildBundle({
    dir: release,
    out,
    name: 'edgeflow',
    version,
    boards: extra.boards ?? ['test-board'],
    rollout: extra.rollout ?? 100,
    ...(privatePem ? { privateKeyPem: privatePem } : {}),
  });
  return out;
}

function appSource(version: string, behavior: Behavior): string {
  return `'use strict';
// EdgeFlow OTA test release ${version}: behaviour "${behavior}".
const VERSION = ${JSON.stringify(version)};
const BEHAVIOR = ${JSON.stringify(behavior)};
const notify = require('/opt/edgeflow/tool/node_modules/sd-notify');
const log = (m) => process.stdout.write('test-release ' + VERSION + ': ' + m + '\\n');
(async () => {
  const { otaOnAgentStart } = await import('/opt/edgeflow/tool/ota/dist/src/index.js');
  const trial = await otaOnAgentStart();
  log('start behavior=' + BEHAVIOR + ' inTrial=' + trial.inTrial);
  if (BEHAVIOR === 'attacker') return attack();
  if (BEHAVIOR === 'never-ready') {
    setInterval(() => {}, 1000);
    return;
  }
  setInterval(() => {}, 1 << 30); // keep running after the trial ends
  notify.ready();
  const usec = Number(process.env.WATCHDOG_USEC || 0);
  if (usec > 0) notify.startWatchdogMode(Math.max(100, Math.floor(usec / 2000)));
  log('READY=1 sent');
  await trial.onReady();
  if (BEHAVIOR === 'crash-after-ready') {
    setTimeout(() => { log('crashing'); process.exit(3); }, 300);
    return;
  }
  if (BEHAVIOR === 'hang') {
    setTimeout(() => { log('hanging the event loop'); for (;;) {} }, 300);
    return;
  }
  const tick = setInterval(async () => {
    const v = await trial.onHealth(BEHAVIOR !== 'bad-health', 'ingest stalled (test)');
    if (v === 'committed') { log('trial committed'); clearInterval(tick); }
    if (v === 'rollback') { log('trial failed: exiting for rollback'); process.exit(1); }
  }, 200);
  process.on('SIGTERM', () => { log('SIGTERM'); process.exit(0); });
})().catch((e) => { log('fatal ' + (e && e.stack)); process.exit(1); });

// Everything an agent that is not ours can do with its own uid in its StateDirectory, aimed at
// root's rollback hooks and edgeflow dt; each step logs whether the kernel let it happen.
function attack() {
  const fs = require('node:fs');
  const { execFileSync } = require('node:child_process');
  const sha = (s) => require('node:crypto').createHash('sha256').update(s).digest('hex');
  const S = '/var/lib/edgeflow';
  const step = (what, fn) => {
    try { fn(); log('attack: ' + what); } catch (e) { log('attack failed: ' + what + ': ' + (e.code || e.message)); }
  };
  step('cache -> /opt/edgeflow/keys', () => {
    fs.rmSync(S + '/cache', { recursive: true, force: true });
    fs.symlinkSync('/opt/edgeflow/keys', S + '/cache');
  });
  step('planted dt backup naming /root/victim', () => {
    const d = S + '/dt/backups/000009';
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(d + '/file-0', 'attacker\\n');
    fs.writeFileSync(d + '/manifest.json', JSON.stringify({ version: 1, created: 'x', action: 'install x',
      files: [{ rel: 'boot/firmware/config.txt', path: '/root/victim', existed: true, sha256: sha('attacker\\n') }] }));
  });
  step('dt .new links -> /root/victim', () => {
    for (const id of ['000002', '000010']) {
      const d = S + '/dt/backups/' + id;
      fs.mkdirSync(d, { recursive: true });
      for (const n of ['file-0.new', 'file-1.new', 'manifest.json.new']) fs.symlinkSync('/root/victim', d + '/' + n);
    }
  });
  step('trial report -> FIFO', () => {
    fs.rmSync(S + '/ota-trial.json', { force: true });
    execFileSync('mkfifo', [S + '/ota-trial.json']);
  });
  step('install request -> link to /root/victim', () => {
    fs.mkdirSync(S + '/ota', { recursive: true, mode: 0o700 });
    fs.symlinkSync('/root/victim', S + '/ota/request.json');
  });
  log('attack done: exiting to provoke the rollback');
  process.exit(1);
}
`;
}
