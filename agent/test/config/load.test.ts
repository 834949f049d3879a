import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { AgentError } from '../../src/errors.js';

const files = (map: Record<string, string>) => (p: string) => {
  const text = map[p];
  if (text === undefined)
    return Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
  return Promise.resolve(text);
};

async function rejects(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgentError) return err;
    throw new Error(`expected an AgentError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

test('defaults: embedded broker on 127.0.0.1:1883, HTTP on 127.0.0.1:8080', async () => {
  const c = await loadConfig({ env: {} });
  assert.equal(c.mqtt.listen.host, '127.0.0.1');
  assert.equal(c.mqtt.listen.port, 1883);
  assert.equal(c.http.listen.host, '127.0.0.1');
  assert.equal(c.http.listen.port, 8080);
  assert.equal(c.mqtt.embedded, true);
  assert.equal(c.dataDir, '/var/lib/edgeflow');
  assert.ok(Object.isFrozen(c.mqtt.listen), 'validated config is frozen');
});

test('a good YAML file is applied over the defaults', async () => {
  const yaml =
    'mqtt:\n  listen:\n    port: 1884\nhttp:\n  listen: { host: 0.0.0.0 }\ncache:\n  shards: 128\n';
  const c = await loadConfig({
    configPath: '/etc/ef.yaml',
    env: {},
    readFile: files({ '/etc/ef.yaml': yaml }),
  });
  assert.equal(c.mqtt.listen.port, 1884);
  assert.equal(c.http.listen.host, '0.0.0.0');
  assert.equal(c.http.listen.port, 8080);
  assert.equal(c.cache.shards, 128);
});

test('a JSON file is accepted too', async () => {
  const c = await loadConfig({
    configPath: 'c.json',
    env: {},
    readFile: files({ 'c.json': '{"log":{"level":"debug"}}' }),
  });
  assert.equal(c.log.level, 'debug');
});

test('every problem is listed by key path, unknown keys included', async () => {
  const yaml = [
    'mqtt:',
    '  listen:',
    '    port: 70000',
    '  bogus: 1',
    'http:',
    '  listen:',
    '    port: "eighty"',
    'cache:',
    '  shards: 3',
    'extra: true',
  ].join('\n');
  const err = await rejects(
    loadConfig({ configPath: 'bad.yaml', env: {}, readFile: files({ 'bad.yaml': yaml }) }),
  );
  assert.equal(err.code, 'EDGEFLOW_CONFIG_INVALID');
  const d = [...err.details].sort();
  assert.deepEqual(d, [
    'cache.shards: must be a power of two 1-1024',
    'extra: unknown key',
    'http.listen.port: must be an integer 1-65535',
    'mqtt.bogus: unknown key',
    'mqtt.listen.port: must be an integer 1-65535',
  ]);
  assert.match(err.message, /^bad\.yaml: 5 problems:/);
});

test('a YAML syntax error names the file, line and column', async () => {
  const err = await rejects(
    loadConfig({
      configPath: 'x.yaml',
      env: {},
      readFile: files({ 'x.yaml': 'mqtt:\n  listen: [\n' }),
    }),
  );
  assert.equal(err.code, 'EDGEFLOW_CONFIG_PARSE');
  assert.match(err.message, /^x\.yaml:\d+:\d+: /);
});

test('duplicate keys are a parse error, not a silent overwrite', async () => {
  const err = await rejects(
    loadConfig({
      configPath: 'd.yaml',
      env: {},
      readFile: files({ 'd.yaml': 'dataDir: /a\ndataDir: /b\n' }),
    }),
  );
  assert.equal(err.code, 'EDGEFLOW_CONFIG_PARSE');
});

test('a missing file is EDGEFLOW_CONFIG_NOT_FOUND', async () => {
  const err = await rejects(loadConfig({ configPath: '/nope.yaml', env: {}, readFile: files({}) }));
  assert.equal(err.code, 'EDGEFLOW_CONFIG_NOT_FOUND');
  assert.match(err.message, /\/nope\.yaml/);
});

test('EDGEFLOW_CONFIG names the file when --config is absent', async () => {
  const c = await loadConfig({
    env: { EDGEFLOW_CONFIG: 'env.yaml' },
    readFile: files({ 'env.yaml': 'dataDir: /srv/ef\n' }),
  });
  assert.equal(c.dataDir, '/srv/ef');
});

test('precedence: flag beats environment beats file', async () => {
  const readFile = files({ 'f.yaml': 'dataDir: /file\nmqtt: { listen: { port: 1000 } }\n' });
  const env = { EDGEFLOW_DATA_DIR: '/env', EDGEFLOW_MQTT_PORT: '2000', EDGEFLOW_HTTP_PORT: '3000' };
  const fromEnv = await loadConfig({ configPath: 'f.yaml', env, readFile });
  assert.equal(fromEnv.dataDir, '/env');
  assert.equal(fromEnv.mqtt.listen.port, 2000);
  assert.equal(fromEnv.http.listen.port, 3000);
  const fromFlag = await loadConfig({ configPath: 'f.yaml', dataDir: '/flag', env, readFile });
  assert.equal(fromFlag.dataDir, '/flag');
});

test('a bad environment override names the variable and echoes its value', async () => {
  const err = await rejects(
    loadConfig({ env: { EDGEFLOW_HTTP_PORT: 'x', EDGEFLOW_LOG_LEVEL: 'loud' } }),
  );
  assert.deepEqual(err.details, [
    'log.level (from EDGEFLOW_LOG_LEVEL="loud"): must be one of fatal, error, warn, info, debug, trace, silent',
    'http.listen.port (from EDGEFLOW_HTTP_PORT="x"): must be an integer 1-65535',
  ]);
  const flag = await rejects(loadConfig({ env: {}, logFormat: 'fancy' }));
  assert.deepEqual(flag.details, [
    'log.format (from --log-format "fancy"): must be one of auto, json, pretty',
  ]);
});

test('log level and format: flag beats environment beats file', async () => {
  const readFile = files({ 'f.yaml': 'log: { level: error, format: json }\n' });
  const file = await loadConfig({ configPath: 'f.yaml', env: {}, readFile });
  assert.deepEqual(file.log, { level: 'error', format: 'json' });
  const env = { EDGEFLOW_LOG_LEVEL: 'warn', EDGEFLOW_LOG_FORMAT: 'pretty' };
  const fromEnv = await loadConfig({ configPath: 'f.yaml', env, readFile });
  assert.deepEqual(fromEnv.log, { level: 'warn', format: 'pretty' });
  const fromFlag = await loadConfig({ configPath: 'f.yaml', env, readFile, logLevel: 'debug' });
  assert.deepEqual(fromFlag.log, { level: 'debug', format: 'pretty' });
});

test('an unknown key names the accepted key it most likely meant', async () => {
  const yaml = [
    'http: { lisen: { port: 1 } }',
    'mqtt: { listen: { Port: 1884 }, auth: { allowAnonymus: true } }',
    'cache: { zzzzzz: 1 }',
    'bridge: { url: "mqtt://127.0.0.1", clientId: c, topicPrefx: "a/" }',
    'hal: { sensors: [ { type: bme280, id: env, adress: 0x76 } ] }',
  ].join('\n');
  const err = await rejects(
    loadConfig({ configPath: 'k.yaml', env: {}, readFile: files({ 'k.yaml': yaml }) }),
  );
  const lines = err.details.join('\n');
  assert.match(lines, /^http\.lisen: unknown key \(did you mean listen\?\)$/m);
  assert.match(lines, /^mqtt\.listen\.Port: unknown key \(did you mean port\?\)$/m);
  assert.match(
    lines,
    /^mqtt\.auth\.allowAnonymus: unknown key \(did you mean allowAnonymous\?\)$/m,
  );
  assert.match(lines, /^cache\.zzzzzz: unknown key$/m, 'no guess when nothing is close');
  assert.match(lines, /^bridge\.topicPrefx: unknown key \(did you mean topicPrefix\?\)$/m);
  assert.match(lines, /^hal\.sensors\.0\.adress: unknown key \(did you mean address\?\)$/m);
});

test('a top level that is not a mapping is refused', () => {
  assert.throws(() => validateConfig([1, 2], 'list.yaml'), /top level must be a mapping/);
});

test('an attestation grant naming an unknown token or MQTT user is a config error', async () => {
  const yaml = [
    'http:',
    '  apiTokens: [{ name: verifier, sha256: ' + `"${'0'.repeat(64)}"` + ' }]',
    'attestation:',
    '  access: { apiTokens: [verifier, verifer], mqttUsers: [ops] }',
  ].join('\n');
  const err = await rejects(
    loadConfig({ configPath: 'g.yaml', env: {}, readFile: files({ 'g.yaml': yaml }) }),
  );
  assert.equal(err.code, 'EDGEFLOW_CONFIG_INVALID');
  assert.deepEqual([...err.details].sort(), [
    'attestation.access.apiTokens.1: no token named "verifer" in http.apiTokens',
    'attestation.access.mqttUsers.0: no user named "ops" in mqtt.auth.users',
  ]);
});

test('the OTA and self-test grants name existing tokens and users, like every grant', async () => {
  const yaml = [
    'http:',
    '  apiTokens: [{ name: ops, sha256: ' + `"${'0'.repeat(64)}"` + ' }]',
    'ota:',
    '  access: { apiTokens: [ops, opz], mqttUsers: [plc] }',
    'selftest:',
    '  access: { apiTokens: [er] }',
  ].join('\n');
  const err = await rejects(
    loadConfig({ configPath: 'g.yaml', env: {}, readFile: files({ 'g.yaml': yaml }) }),
  );
  assert.deepEqual([...err.details].sort(), [
    'ota.access.apiTokens.1: no token named "opz" in http.apiTokens',
    'ota.access.mqttUsers.0: no user named "plc" in mqtt.auth.users',
    'selftest.access.apiTokens.0: no token named "er" in http.apiTokens',
  ]);
  const d = await loadConfig({ env: {} });
  assert.deepEqual(d.ota.access, { apiTokens: [], mqttUsers: [] }, 'nobody by default');
  assert.deepEqual(d.selftest.access, { apiTokens: [] });
});

test('ota.mqttInstall.users from an earlier config keeps its meaning as ota.access.mqttUsers, with a notice; both names are refused', async () => {
  const user = `      - { username: plc, passwordHash: '${'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='}' }`;
  const old = [
    'mqtt:',
    '  auth:',
    '    users:',
    user,
    'ota:',
    '  mqttInstall: { users: [plc], allowHttp: true }',
  ];
  const notices: unknown[] = [];
  const c = await loadConfig({
    configPath: 'old.yaml',
    env: {},
    readFile: files({ 'old.yaml': old.join('\n') }),
    onNotice: (n) => notices.push(n),
  });
  assert.deepEqual(c.ota.access.mqttUsers, ['plc']);
  assert.equal(c.ota.mqttInstall.allowHttp, true);
  assert.equal('users' in c.ota.mqttInstall, false, 'one name for the grant inside the agent');
  assert.deepEqual(notices, [
    {
      code: 'EDGEFLOW_CONFIG_RENAMED_KEY',
      key: 'ota.mqttInstall.users',
      replacement: 'ota.access.mqttUsers',
      message:
        'ota.mqttInstall.users is the earlier name of ota.access.mqttUsers and is read as it: write ota.access.mqttUsers instead once every gateway runs a release that knows it (older agents refuse the new name)',
    },
  ]);
  const both = [...old, '  access: { mqttUsers: [] }'].join('\n');
  const err = await rejects(
    loadConfig({ configPath: 'both.yaml', env: {}, readFile: files({ 'both.yaml': both }) }),
  );
  assert.equal(err.code, 'EDGEFLOW_CONFIG_INVALID');
  assert.deepEqual(err.details, [
    'ota.mqttInstall.users: renamed to ota.access.mqttUsers, which is given as well: keep only ota.access.mqttUsers',
  ]);
  // The old name still names users that must exist.
  const typo = old.join('\n').replace('users: [plc]', 'users: [plk]');
  const bad = await rejects(
    loadConfig({ configPath: 't.yaml', env: {}, readFile: files({ 't.yaml': typo }) }),
  );
  assert.deepEqual(bad.details, ['ota.access.mqttUsers.0: no user named "plk" in mqtt.auth.users']);
});

test('a hal.root that does not exist is refused at load; the default root and the simulator are not checked', async () => {
  const load = (hal: string) =>
    loadConfig({
      configPath: '/etc/ef.yaml',
      env: {},
      readFile: files({ '/etc/ef.yaml': `hal:\n${hal}` }),
    });
  const err = await rejects(load('  root: /nonexistent-edgeflow-root\n'));
  assert.equal(err.code, 'EDGEFLOW_CONFIG_INVALID');
  assert.match(
    err.message,
    /^\/etc\/ef\.yaml: 1 problem:\n {2}hal\.root: \/nonexistent-edgeflow-root does not exist or cannot be read \(ENOENT\): no board could be detected under it; fix the path or leave hal\.root out \(default \/\)$/,
  );
  const file = await rejects(load(`  root: ${JSON.stringify(fileURLToPath(import.meta.url))}\n`));
  assert.match(file.message, /hal\.root: .* is not a directory/);
  const sim = await load('  board: sim\n  root: /nonexistent-edgeflow-root\n');
  assert.equal(sim.hal.board, 'sim');
  assert.equal((await load('  root: /\n')).hal.root, '/');
  assert.equal((await load(`  root: ${tmpdir()}\n`)).hal.root, tmpdir());
});
