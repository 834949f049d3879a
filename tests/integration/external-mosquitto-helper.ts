import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The mosquitto configuration shipped for gateways (what the tests run). */
export const shippedConfig = fileURLToPath(
  new URL('../../../systemd/mosquitto/edgeflow-gateway.conf', import.meta.url),
);

/** Undefined when mosquitto is installed, else why the test must be skipped. */
export function mosquittoMissing(): string | undefined {
  const r = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  if (r.error !== undefined) return 'needs mosquitto: install it with scripts/install-deps.sh';
  return undefined;
}

export interface Mosquitto {
  port: number;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM (mosquitto saves its persistence file) and wait for the exit. */
  stop: () => Promise<void>;
}

/**
 * Starts mosquitto with the shipped gateway config, only the listener port and the persistence
 * directory changed (so the test exercises the shipped limits), on 127.0.0.1.
 */
export async function startMosquitto(port: number, dir: string): Promise<Mosquitto> {
  const shipped = await readFile(shippedConfig, 'utf8');
  const conf = shipped
    .replace(/^listener 1883 127\.0\.0\.1$/m, `listener ${port} 127.0.0.1`)
    // The shipped file leaves persistence_location to Debian's main file: give it one here.
    .concat(`\npersistence_location ${dir}/\n`);
  if (!conf.includes(`listener ${port} `)) throw new Error('shipped config has no listener line');
  const path = join(dir, 'mosquitto.conf');
  // Started as root, mosquitto drops to the `mosquitto` user, which cannot write into a
  // test's 0700 temporary directory: it then logs "Error saving in-memory database" at stop
  // and comes back empty (a lost message that is the test's fault, not the bridge's). Tests
  // run as root here, so mosquitto stays root; on a gateway the shipped config runs it as
  // `mosquitto` in /var/lib/mosquitto.
  const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
  await writeFile(path, `${conf}\nlog_dest stdout\n${asRoot}`);
  const child = spawn('mosquitto', ['-c', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  // Ready when the port accepts connections (an event, polled: mosquitto has no notify).
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${out}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 200) throw new Error(`mosquitto did not listen on ${port}: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      if (/Error saving/.test(out))
        throw new Error(`mosquitto could not save its persistence: ${out}`);
    },
  };
}
