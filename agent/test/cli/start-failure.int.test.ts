import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

async function hold(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  assert.ok(typeof addr === 'object' && addr !== null);
  return { server, port: addr.port };
}

async function runAgent(env: NodeJS.ProcessEnv) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ef-startfail-'));
  const child = spawn(process.execPath, [cli, 'agent', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

test('MQTT port in use: one stderr line with the cause and the key/variable that moves it, exit 1', async (t) => {
  const held = await hold();
  t.after(() => held.server.close());
  const other = await hold();
  other.server.close();
  const r = await runAgent({
    EDGEFLOW_MQTT_PORT: String(held.port),
    EDGEFLOW_HTTP_PORT: String(other.port),
  });
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `exactly one line on stderr: ${r.err}`);
  assert.equal(
    lines[0],
    `edgeflow agent: cannot start: MQTT listener 127.0.0.1:${held.port}: port ${held.port} is already in use by another process; ` +
      `stop it, or move the listener with mqtt.listen.port in the configuration or EDGEFLOW_MQTT_PORT=<port> (EDGEFLOW_LISTEN_FAILED)`,
  );
  const fatal = r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((rec) => rec.event === 'agent.start_failed');
  assert.ok(fatal, r.out);
  assert.equal(fatal.level, 'fatal');
  assert.equal(fatal.code, 'EDGEFLOW_LISTEN_FAILED');
  assert.equal(fatal.msg, lines[0]?.replace('edgeflow agent: ', ''));
});

test('HTTP port in use names http.listen.port and EDGEFLOW_HTTP_PORT', async (t) => {
  const held = await hold();
  t.after(() => held.server.close());
  const other = await hold();
  other.server.close();
  const r = await runAgent({
    EDGEFLOW_MQTT_PORT: String(other.port),
    EDGEFLOW_HTTP_PORT: String(held.port),
  });
  assert.equal(r.code, 1, r.err);
  assert.match(
    r.err,
    new RegExp(
      `^edgeflow agent: cannot start: HTTP listener 127\\.0\\.0\\.1:${held.port}: port ${held.port} is already in use.*http\\.listen\\.port in the configuration or EDGEFLOW_HTTP_PORT=<port> \\(EDGEFLOW_LISTEN_FAILED\\)\\n$`,
    ),
  );
});

test('a bad configuration exits 78 (RestartPreventExitStatus=78 keeps systemd from retrying)', async () => {
  const r = await runAgent({ EDGEFLOW_HTTP_PORT: '80a' });
  assert.equal(r.code, 78);
  assert.match(r.err, /http\.listen\.port \(from EDGEFLOW_HTTP_PORT="80a"\): must be an integer/);
});
