import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured } from '@edgeflow/core/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { hashPassword } from '@edgeflow/agent';
import { buildBundle, generateKeyPair, runCli, signBundle } from '@edgeflow/ota';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';

const device =
  hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, 64) || 'gateway';
const base = `edgeflow/${device}/ota`;

interface Status {
  id: string | null;
  state: string;
  code: string | null;
  message: string;
  version: string | null;
}

/** Collects every status message of a client; `next` waits for one matching id and state. */
function statuses(client: MqttClient) {
  const seen: Status[] = [];
  const waiters: { match: (s: Status) => boolean; resolve: (s: Status) => void }[] = [];
  client.on('message', (topic, p) => {
    if (topic !== `${base}/status`) return;
    const s = JSON.parse(p.toString()) as Status;
    seen.push(s);
    for (const w of waiters.splice(0)) {
      if (w.match(s)) w.resolve(s);
      else waiters.push(w);
    }
  });
  return {
    seen,
    next: (id: string | null, state: string): Promise<Status> => {
      const match = (s: Status) => s.id === id && s.state === state;
      const found = seen.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

async function ota(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCaptured(runCli, argv);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

async function serve(files: Record<string, Buffer>) {
  const server = createServer((req, res) => {
    const body = files[(req.url ?? '').split('?')[0] ?? ''];
    if (!body) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'content-length': body.length - start,
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('OTA over MQTT: authenticated request → request file → root-side install → status', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-ota-mqtt-'));
  const root = join(dir, 'opt');
  const dataDir = join(dir, 'data');
  const keys = join(dir, 'keys');
  await mkdir(keys);
  const trusted = generateKeyPair();
  await writeFile(join(keys, 'fleet.pub'), trusted.publicPem);
  const bundles: Record<string, Buffer> = {};
  for (const v of ['1.0.0', '1.1.0']) {
    const rel = join(dir, `rel-${v}`);
    await mkdir(rel);
    await writeFile(join(rel, 'VERSION'), v);
    const out = join(dir, `${v}.tar.gz`);
    await buildBundle({
      dir: rel,
      out,
      name: 'edgeflow',
      version: v,
      boards: ['test-board'],
      privateKeyPem: trusted.privatePem,
    });
    bundles[`/${v}.tar.gz`] = await readFile(out);
  }
  // Tampered: the same release re-signed by a key the device does not trust.
  await signBundle(
    join(dir, '1.1.0.tar.gz'),
    join(dir, 'evil.tar.gz'),
    generateKeyPair().privatePem,
  );
  const evil = await readFile(join(dir, 'evil.tar.gz'));
  bundles['/evil.tar.gz'] = evil;
  const good = await readFile(join(dir, '1.1.0.tar.gz'));
  const srv = await serve(bundles);

  const common = [
    '--root',
    root,
    '--keys',
    keys,
    '--board',
    'test-board',
    '--device-id',
    'dev-1',
    '--config-dir',
    join(dir, 'etc'),
    '--cache-dir',
    join(dir, 'cache'),
    '--report-file',
    join(dataDir, 'ota-trial.json'),
  ];
  await mkdir(join(dir, 'etc'));
  await mkdir(join(dir, 'cache'));
  const first = await ota(['install', join(dir, '1.0.0.tar.gz'), ...common, '--no-restart']);
  assert.equal(first.code, 0, first.stderr);

  const config = join(dir, 'edgeflow.yaml');
  await writeFile(
    config,
    [
      'hal: { board: sim, demo: false }',
      'mqtt:',
      '  auth:',
      // Commands are reached only by ACL patterns that name them (edgeflow/...): here everyone
      // may publish the install topic, so the refusals below are the command's own grants.
      // The status is delivered only to subscribers whose ACL names it as well.
      "    anonymous: { publish: ['edgeflow/+/ota/install'], subscribe: ['edgeflow/+/ota/status'] }",
      '    users:',
      `      - { username: ops, passwordHash: '${await hashPassword('ops-pass')}', publish: ['edgeflow/+/ota/install'], subscribe: ['edgeflow/+/ota/status'] }`,
      `      - { username: viewer, passwordHash: '${await hashPassword('viewer-pass')}', publish: ['edgeflow/+/ota/install'], subscribe: ['edgeflow/+/ota/status'] }`,
      'ota:',
      `  root: '${root}'`,
      // The grant under its earlier name (ota.access.mqttUsers now): a file written for an
      // earlier release keeps its meaning, so an update over MQTT never locks MQTT updates out.
      '  mqttInstall: { users: [ops], allowHttp: true, maxBytes: 10000000 }',
      '',
    ].join('\n'),
  );
  let agent: AgentProcess = await startAgent({ dataDir, args: ['--config', config] });
  const connect = (username?: string, password?: string) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttPort}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...(username && password ? { username, password } : {}),
    });
  let anon = await connect();
  let viewer = await connect('viewer', 'viewer-pass');
  let ops = await connect('ops', 'ops-pass');
  t.after(async () => {
    await Promise.all([anon.endAsync(), viewer.endAsync(), ops.endAsync()]);
    await agent.stop();
    await srv.close();
  });
  const renamed = agent.logs.filter((l) => l.event === 'config.renamed_key');
  assert.deepEqual(
    renamed.map((l) => [l.level, l.code, l.key, l.replacement]),
    [['warn', 'EDGEFLOW_CONFIG_RENAMED_KEY', 'ota.mqttInstall.users', 'ota.access.mqttUsers']],
  );
  for (const c of [anon, viewer, ops]) await c.subscribeAsync(`${base}/status`, { qos: 0 });
  let st = statuses(ops);
  const send = (c: MqttClient, body: object) =>
    c.publishAsync(`${base}/install`, JSON.stringify(body), { qos: 2 });
  const requestFile = join(dataDir, 'ota', 'request.json');
  const runRequest = () =>
    ota(['install', '--request', requestFile, ...common, '--no-restart', '--allow-http']);
  const current = () => readlink(join(root, 'current'));

  // Anonymous and unlisted users are refused, with a status message, and nothing is written.
  const req = (id: string, url: string, sha256: string, version?: string) => ({
    id,
    url,
    sha256,
    ...(version ? { version } : {}),
  });
  await send(anon, req('a1', srv.url('/1.1.0.tar.gz'), sha(good)));
  assert.equal((await st.next('a1', 'refused')).code, 'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED');
  await send(viewer, req('v1', srv.url('/1.1.0.tar.gz'), sha(good)));
  assert.equal((await st.next('v1', 'refused')).code, 'EDGEFLOW_OTA_REQUEST_FORBIDDEN');
  await send(ops, req('bad', 'ftp://x/y', sha(good)));
  const bad = await st.next('bad', 'refused');
  assert.equal(bad.code, 'EDGEFLOW_OTA_REQUEST_INVALID');
  assert.match(bad.message, /^url: scheme ftp:/);
  assert.equal(existsSync(requestFile), false, 'refused requests write nothing');

  // Wrong digest: accepted by the agent (it cannot know), refused by the root side, nothing switched.
  await send(ops, req('r1', srv.url('/1.1.0.tar.gz'), sha(evil), '1.1.0'));
  await st.next('r1', 'accepted');
  assert.equal((await stat(requestFile)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dataDir, 'ota'))).mode & 0o777, 0o700);
  const onDisk = JSON.parse(await readFile(requestFile, 'utf8')) as Record<string, unknown>;
  assert.equal(onDisk.id, 'r1');
  assert.equal(onDisk.requestedBy, 'ops');
  // While r1 is pending, another request is refused.
  await send(ops, req('r1b', srv.url('/1.1.0.tar.gz'), sha(good)));
  assert.equal((await st.next('r1b', 'refused')).code, 'EDGEFLOW_OTA_REQUEST_PENDING');
  const r1 = await runRequest();
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /EDGEFLOW_OTA_DIGEST_MISMATCH/);
  assert.equal((await st.next('r1', 'failed')).code, 'EDGEFLOW_OTA_DIGEST_MISMATCH');
  assert.equal(await current(), 'releases/1.0.0');

  // Tampered bundle (right digest of the file, untrusted signature): refused, nothing switched.
  await send(ops, req('r2', srv.url('/evil.tar.gz'), sha(evil)));
  await st.next('r2', 'accepted');
  const r2 = await runRequest();
  assert.equal(r2.code, 1);
  assert.equal((await st.next('r2', 'failed')).code, 'EDGEFLOW_OTA_UNKNOWN_KEY');
  assert.equal(await current(), 'releases/1.0.0');
  assert.deepEqual((await ota(['status', '--root', root, '--json'])).code, 0);

  // A used id is refused (replay), then the good request installs 1.1.0 on trial.
  await send(ops, req('r1', srv.url('/1.1.0.tar.gz'), sha(good)));
  assert.equal((await st.next('r1', 'refused')).code, 'EDGEFLOW_OTA_REQUEST_REPLAYED');
  await send(ops, req('r3', srv.url('/1.1.0.tar.gz?token=s3cret'), sha(good), '1.1.0'));
  await st.next('r3', 'accepted');
  const r3 = await runRequest();
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stdout, /request r3: installed 1\.1\.0 \(from 1\.0\.0\), on trial/);
  assert.equal(await current(), 'releases/1.1.0');
  assert.equal(await readFile(join(root, 'current', 'VERSION'), 'utf8'), '1.1.0');
  assert.equal((await st.next('r3', 'installed')).version, '1.1.0');
  const again = await runRequest();
  assert.match(again.stdout, /request r3 was already handled/);
  const result = await readFile(join(root, 'state', 'request-result.json'), 'utf8');
  assert.doesNotMatch(result, /s3cret/, 'the URL query stays out of the result');
  assert.doesNotMatch(JSON.stringify(agent.logs), /s3cret/, 'and out of the agent logs');

  // The restart into the trial (ExecStartPre=+ prestart counts it), then the agent reports it.
  await Promise.all([anon.endAsync(), viewer.endAsync(), ops.endAsync()]);
  await agent.stop();
  assert.equal(
    (
      await ota([
        'prestart',
        ...common.slice(0, 2),
        '--report-file',
        join(dataDir, 'ota-trial.json'),
      ])
    ).code,
    0,
  );
  agent = await startAgent({ dataDir, args: ['--config', config] });
  [anon, viewer, ops] = [await connect(), await connect(), await connect('ops', 'ops-pass')];
  await ops.subscribeAsync(`${base}/status`, { qos: 0 });
  st = statuses(ops);
  // The publication at start races the test's subscription; its log line does not.
  const until = Date.now() + 30_000;
  while (!agent.logs.some((l) => l.event === 'ota.request_status' && l.state === 'trial')) {
    assert.ok(Date.now() < until, 'the restarted agent reports the trial');
    await new Promise((r) => setTimeout(r, 100));
  }
  await send(ops, req('r4', srv.url('/1.1.0.tar.gz'), sha(good)));
  assert.equal((await st.next('r4', 'refused')).code, 'EDGEFLOW_OTA_REQUEST_PENDING');
  const commit = await ota(['commit', ...common.slice(0, 2)]);
  assert.equal(commit.code, 0, commit.stderr);
  await st.next('r3', 'committed');
  const until2 = Date.now() + 10_000;
  while (existsSync(requestFile)) {
    assert.ok(Date.now() < until2, 'the finished request file is removed');
    await new Promise((r) => setTimeout(r, 50));
  }
});
