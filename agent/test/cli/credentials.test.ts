import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { parseScryptHash, verifyPassword } from '../../src/broker/password.js';
import { main } from '../../src/cli/main.js';

function io(stdinText?: string) {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  return {
    io: {
      stdout: sink((s) => (out += s)),
      stderr: sink((s) => (err += s)),
      env: {},
      ...(stdinText === undefined ? {} : { stdin: Readable.from([Buffer.from(stdinText)]) }),
    },
    out: () => out,
    err: () => err,
  };
}

test('mqtt passwd: prints a users entry whose hash verifies the password read from stdin', async () => {
  const t = io('correct horse\nignored second line\n');
  assert.equal(await main(['mqtt', 'passwd', '--user', 'gw-1'], t.io), 0);
  assert.doesNotMatch(t.out(), /correct horse/, 'the password is never printed');
  assert.match(t.out(), /username: "gw-1"/);
  const hash = /passwordHash: '([^']+)'/.exec(t.out())?.[1];
  const parsed = parseScryptHash(hash ?? '');
  assert.ok(parsed, t.out());
  assert.equal(await verifyPassword(Buffer.from('correct horse'), parsed), true);
  assert.equal(await verifyPassword(Buffer.from('correct horse\n'), parsed), false);
});

test('mqtt passwd: an empty password and a wrong command line are refused', async () => {
  const empty = io('\n');
  assert.equal(await main(['mqtt', 'passwd'], empty.io), 1);
  assert.match(empty.err(), /empty/);
  const wrong = io('x');
  assert.equal(await main(['mqtt', 'hash'], wrong.io), 2);
  assert.equal(await main(['mqtt', 'passwd', '--bogus'], io('x').io), 2);
});

test('http token: the printed token hashes to the printed sha256 entry', async () => {
  const t = io();
  assert.equal(await main(['http', 'token', '--name', 'ops'], t.io), 0);
  const token = t.out().trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  const sha = /sha256: ([0-9a-f]{64})/.exec(t.err())?.[1];
  assert.equal(sha, createHash('sha256').update(token).digest('hex'));
  assert.match(t.err(), /name: "ops"/);
  assert.equal(await main(['http', 'token', '--name', ''], io().io), 2);
});

test('mqtt passwd: the printed entry is least privilege and validates as configuration', async () => {
  const { parse } = await import('yaml');
  const { validateConfig } = await import('../../src/config/load.js');
  const t = io('pw');
  assert.equal(await main(['mqtt', 'passwd', '--user', 'sensor-1'], t.io), 0);
  const cfg = validateConfig(parse(t.out()), 'printed');
  const u = cfg.mqtt.auth.users[0];
  assert.deepEqual([u?.publish, u?.subscribe], [['sensors/%u/#'], []]);
  // Explicit grants are printed as given, and a command grant names the namespace.
  const g = io('pw');
  const argv = ['--publish', 'sensors/%u/#', '-p', 'edgeflow/+/gpio/relay/set', '-s', 'a/#'];
  assert.equal(await main(['mqtt', 'passwd', '--user', 'plc', ...argv], g.io), 0);
  const v = validateConfig(parse(g.out()), 'printed').mqtt.auth.users[0];
  assert.deepEqual(
    [v?.publish, v?.subscribe],
    [['sensors/%u/#', 'edgeflow/+/gpio/relay/set'], ['a/#']],
  );
});
