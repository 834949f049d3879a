import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';

const shipped = new URL('../../../systemd/mosquitto/edgeflow-gateway.conf', import.meta.url);
const DEBIAN_MAIN = '/etc/mosquitto/mosquitto.conf';

/**
 * docs/mosquitto.md's install step as a gateway runs it: Debian's own mosquitto.conf (paths moved
 * into a temporary directory, nothing else changed) including a conf.d that holds the shipped
 * file (listener port changed). Resolves with mosquitto's output once it runs or exits.
 */
async function runDebianLayout(
  t: { after: (fn: () => Promise<void>) => void },
  extra = '',
): Promise<{ code: number | null; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-mosq-conf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'conf.d'));
  await mkdir(join(dir, 'data'));
  const main = (await readFile(DEBIAN_MAIN, 'utf8'))
    .replace(/^pid_file .*$/m, `pid_file ${dir}/mosquitto.pid`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/data/`)
    .replace(/^log_dest .*$/m, 'log_dest stderr')
    .replace(/^include_dir .*$/m, `include_dir ${dir}/conf.d`);
  assert.match(main, /^persistence_location /m, "Debian's main file sets persistence_location");
  await writeFile(join(dir, 'mosquitto.conf'), `${main}\nuser root\n`);
  const port = await freePort();
  const ours = (await readFile(shipped, 'utf8')).replace(
    /^listener 1883 127\.0\.0\.1$/m,
    `listener ${port} 127.0.0.1`,
  );
  await writeFile(join(dir, 'conf.d', 'edgeflow.conf'), ours + extra);
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const running = new Promise<void>((resolve) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/Opening ipv4 listen socket on port \d+/.test(out)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const first = await Promise.race([running.then(() => 'running'), exited.then(() => 'exited')]);
  if (first === 'exited') return { code: (await exited)[0], out };
  // It serves: a QoS 1 round trip through the shipped listener proves it.
  const pub = spawnSync('mosquitto_pub', ['-p', String(port), '-q', '1', '-t', 't', '-m', 'x'], {
    encoding: 'utf8',
  });
  child.kill('SIGTERM');
  await exited;
  assert.equal(pub.status, 0, pub.stderr);
  return { code: 0, out };
}

function missing(): string | undefined {
  if (!existsSync(DEBIAN_MAIN)) return `${DEBIAN_MAIN} absent: run scripts/install-deps.sh`;
  if (spawnSync('sh', ['-c', 'command -v mosquitto']).status !== 0) return 'mosquitto missing';
  return undefined;
}

test("the shipped gateway config loads beside Debian's mosquitto.conf (as docs/mosquitto.md installs it)", async (t) => {
  const why = missing();
  if (why !== undefined) {
    if (process.env.CI === 'true') assert.fail(why);
    t.skip(why);
    return;
  }
  const r = await runDebianLayout(t);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /Error/);
});

test('a second persistence_location is refused by mosquitto (why the shipped file has none)', async (t) => {
  const why = missing();
  if (why !== undefined) {
    if (process.env.CI === 'true') assert.fail(why);
    t.skip(why);
    return;
  }
  const r = await runDebianLayout(t, '\npersistence_location /var/lib/mosquitto/\n');
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /Duplicate persistence_location value in configuration/);
});
