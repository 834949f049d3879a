import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureIo } from '@edgeflow/core/testing';
import { main } from '../../src/cli/main.js';

const io = captureIo;

test('--help prints usage and exits 0', async () => {
  const t = io();
  assert.equal(await main(['--help'], t.io), 0);
  assert.match(t.out(), /Usage: edgeflow <command>/);
});

test('agent --help prints the agent usage and exits 0', async () => {
  const t = io();
  assert.equal(await main(['agent', '--help'], t.io), 0);
  assert.match(t.out(), /--data-dir DIR/);
});

test('an unknown command or option is a usage error (2)', async () => {
  const a = io();
  assert.equal(await main(['frobnicate'], a.io), 2);
  assert.match(a.err(), /^edgeflow: EDGEFLOW_CLI_USAGE: unknown command "frobnicate"/);
  const b = io();
  assert.equal(await main(['agent', '--bogus'], b.io), 2);
  assert.match(b.err(), /^edgeflow agent: EDGEFLOW_CLI_USAGE: .*bogus/);
  assert.match(b.err(), /Usage: edgeflow agent/);
  const c = io();
  assert.equal(await main(['mqtt', 'hash'], c.io), 2);
  assert.match(c.err(), /^edgeflow mqtt: EDGEFLOW_CLI_USAGE: expected: edgeflow mqtt passwd/);
  const d = io();
  assert.equal(await main(['http', 'token', '--name', ''], d.io), 2);
  assert.match(d.err(), /^edgeflow http token: EDGEFLOW_CLI_USAGE: --name must be 1-64/);
});

test('a bad configuration exits 78 with every problem listed', async () => {
  const t = io({ EDGEFLOW_MQTT_PORT: '0', EDGEFLOW_HTTP_PORT: 'http' });
  assert.equal(await main(['agent'], t.io), 78);
  assert.match(t.err(), /EDGEFLOW_CONFIG_INVALID/);
  assert.match(
    t.err(),
    /mqtt\.listen\.port \(from EDGEFLOW_MQTT_PORT="0"\): must be an integer 1-65535/,
  );
  assert.match(
    t.err(),
    /http\.listen\.port \(from EDGEFLOW_HTTP_PORT="http"\): must be an integer 1-65535/,
  );
});

test('--version prints the version', async () => {
  const t = io();
  assert.equal(await main(['--version'], t.io), 0);
  assert.match(t.out(), /^edgeflow \d+\.\d+\.\d+/);
});

test('subcommands owned by other packages dispatch to their runCli (--help exits 0)', async () => {
  for (const sub of ['ota', 'dt', 'hal', 'attest']) {
    const t = io();
    const code = await main([sub, '--help'], t.io);
    assert.equal(code, 0, `${sub} --help: ${t.err()}`);
    assert.match(t.out() + t.err(), /usage/i, sub);
  }
});
