// Starts a real swtpm (socket mode, TPM 2.0) on loopback with a fresh state directory per
// instance and stops it by PID. swtpm 0.7.1 serves one client connection at a time and sends
// TPM_RC_RETRY once after startup (the binding resends).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A running swtpm. */
export interface Swtpm {
  readonly tcti: string;
  readonly port: number;
  readonly stateDir: string;
  /** Root CA PEM file when started with `ekCert: true`. */
  readonly caRoot: string | undefined;
  stop(): Promise<void>;
}

/** Why swtpm cannot run here, or undefined when it can. */
export function swtpmMissing(): string | undefined {
  const r = spawnSync('swtpm', ['--version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0)
    return 'needs swtpm: run scripts/install-deps.sh (apt-get install swtpm swtpm-tools)';
  return undefined;
}

async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  try {
    srv.listen(port, '127.0.0.1');
    await once(srv, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    srv.close();
  }
}

// The swtpm TCTI uses port P for commands and P+1 for control: find two consecutive free ports.
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 15000);
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free loopback port pair for swtpm');
}

async function waitListening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`swtpm exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await delay(25); // readiness poll of a starting process, not a timing assumption
  }
  throw new Error(`swtpm did not listen on ${port}`);
}

/** Runs swtpm_setup with a private local CA so the TPM holds an RSA EK certificate. */
async function createEkCert(stateDir: string): Promise<string> {
  const ca = join(stateDir, 'ca');
  const localcaConf = join(stateDir, 'localca.conf');
  const setupConf = join(stateDir, 'swtpm_setup.conf');
  await writeFile(
    localcaConf,
    `statedir = ${ca}\nsigningkey = ${ca}/signkey.pem\nissuercert = ${ca}/issuercert.pem\ncertserial = ${ca}/certserial\n`,
  );
  await writeFile(
    setupConf,
    `create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = ${localcaConf}\ncreate_certs_tool_options = /etc/swtpm-localca.options\n`,
  );
  const r = spawnSync(
    'swtpm_setup',
    ['--tpm2', '--tpmstate', stateDir, '--create-ek-cert', '--config', setupConf, '--overwrite'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`swtpm_setup failed: ${r.stderr || r.stdout}`);
  return join(ca, 'swtpm-localca-rootca-cert.pem');
}

/** Starts swtpm on 127.0.0.1 with a fresh state directory. */
export async function startSwtpm(opts: { ekCert?: boolean } = {}): Promise<Swtpm> {
  const stateDir = await mkdtemp(join(tmpdir(), 'edgeflow-swtpm-'));
  const caRoot = opts.ekCert ? await createEkCert(stateDir) : undefined;
  const port = await freePortPair();
  const child = spawn(
    'swtpm',
    [
      'socket',
      '--tpm2',
      '--tpmstate',
      `dir=${stateDir}`,
      '--server',
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--flags',
      'not-need-init,startup-clear',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await waitListening(port + 1, child);
  return {
    tcti: `swtpm:host=127.0.0.1,port=${port}`,
    port,
    stateDir,
    caRoot,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
