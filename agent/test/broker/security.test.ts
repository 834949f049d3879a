import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import pino from 'pino';
import { TopicAcl } from '../../src/broker/acl.js';
import { hashPassword, parseScryptHash, verifyPassword } from '../../src/broker/password.js';
import { BrokerSecurity, type ViolationKind } from '../../src/broker/security.js';
import { mqttAuthSchema, mqttLimitsSchema } from '../../src/broker/security-config.js';

const FAST = { N: 1024, r: 8, p: 1 };

test('scrypt hashes: round trip, wrong password, malformed strings', async () => {
  const h = await hashPassword('s3cret', FAST);
  assert.match(h, /^scrypt\$1024\$8\$1\$/);
  const parsed = parseScryptHash(h);
  assert.ok(parsed);
  assert.equal(await verifyPassword(Buffer.from('s3cret'), parsed), true);
  assert.equal(await verifyPassword(Buffer.from('s3cret '), parsed), false);
  assert.equal(
    parseScryptHash('scrypt$1000$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=='),
    undefined,
    'N not 2^k',
  );
  assert.equal(parseScryptHash('bcrypt$...'), undefined);
  assert.ok(mqttAuthSchema.safeParse({ users: [{ username: 'a', passwordHash: 'x' }] }).error);
});

test('ACL patterns: wildcards, %u/%c substitution, $ topics, filters covered', () => {
  const acl = new TopicAcl(['sensors/%u/#', 'cmd/%c/+', 'status'], 'dev1', 'c-1');
  assert.equal(acl.allowsTopic('sensors/dev1/temp'), true);
  assert.equal(acl.allowsTopic('sensors/dev1'), true, '# matches the parent level [MQTT-4.7.1-2]');
  assert.equal(acl.allowsTopic('sensors/dev2/temp'), false);
  assert.equal(acl.allowsTopic('cmd/c-1/x'), true);
  assert.equal(acl.allowsTopic('cmd/c-1/x/y'), false);
  assert.equal(acl.allowsTopic('status'), true);
  assert.equal(acl.allowsFilter('sensors/dev1/+'), true);
  assert.equal(acl.allowsFilter('sensors/+/temp'), false, 'would reach other users');
  assert.equal(acl.allowsFilter('cmd/c-1/#'), false, '# is wider than +');
  const unsafe = new TopicAcl(['sensors/%u/#'], 'a/#', 'c');
  assert.equal(unsafe.allowsTopic('sensors/a/x'), false, 'a user name with / + # never matches');
  const all = new TopicAcl(['#'], '', 'c');
  assert.equal(all.allowsTopic('$SYS/x'), false, '[MQTT-4.7.2-1]');
  assert.equal(all.allowsFilter('any/#'), true);
});

function fixture(auth: object, limits: object = {}) {
  let now = 0;
  const counted: ViolationKind[] = [];
  const lines: unknown[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const sec = new BrokerSecurity(mqttAuthSchema.parse(auth), mqttLimitsSchema.parse(limits), {
    log,
    now: () => now,
    onViolation: (k) => counted.push(k),
  });
  const client = (id: string, conn: object = {}) => ({ id, conn }) as unknown as Client;
  const auth_ = (c: Client, user?: string, pw?: string) =>
    new Promise<{ err: (Error & { returnCode?: number }) | null; ok: boolean | null }>((r) =>
      sec.authenticate(c, user, pw === undefined ? undefined : Buffer.from(pw), (err, ok) =>
        r({ err, ok }),
      ),
    );
  const pub = (c: Client, topic: string) =>
    new Promise<Error | null | undefined>((r) =>
      sec.authorizePublish(c, { topic } as PublishPacket, (e) => r(e)),
    );
  const sub = (c: Client, topic: string) =>
    new Promise<Subscription | null>((r) =>
      sec.authorizeSubscribe(c, { topic, qos: 1 }, (_e, s) => r(s)),
    );
  return { sec, counted, lines, client, auth: auth_, pub, sub, tick: (ms: number) => (now += ms) };
}

test('ACL: no wildcard reaches the command namespace edgeflow/...; a pattern naming it does', () => {
  const all = new TopicAcl(['#'], 'u', 'c');
  assert.equal(all.allowsTopic('sensors/u/t'), true);
  assert.equal(all.allowsTopic('edgeflow/gw/gpio/relay/set'), false);
  assert.equal(all.allowsTopic('edgeflow/deadletter'), false);
  const plus = new TopicAcl(['+/+/gpio/+/set', '+/#'], 'u', 'c');
  assert.equal(plus.allowsTopic('edgeflow/gw/gpio/relay/set'), false);
  const named = new TopicAcl(['edgeflow/+/gpio/relay/set'], 'u', 'c');
  assert.equal(named.allowsTopic('edgeflow/gw/gpio/relay/set'), true);
  assert.equal(named.allowsTopic('edgeflow/gw/gpio/other/set'), false);
  assert.equal(named.allowsTopic('edgeflow/gw/ota/install'), false);
  // A user named "edgeflow" does not get the namespace through %u.
  const sub = new TopicAcl(['%u/#'], 'edgeflow', 'c');
  assert.equal(sub.allowsTopic('edgeflow/gw/gpio/relay/set'), false);
  // Filters alike: one naming the namespace needs a pattern naming it.
  assert.equal(all.allowsFilter('edgeflow/+/ota/status'), false);
  assert.equal(all.allowsFilter('edgeflow/#'), false);
  assert.equal(all.allowsFilter('#'), true, 'allowed, and filtered at delivery');
  const status = new TopicAcl(['#', 'edgeflow/+/ota/status'], 'u', 'c');
  assert.equal(status.allowsFilter('edgeflow/gw/ota/status'), true);
  assert.equal(status.allowsFilter('edgeflow/+/ota/status'), true);
  assert.equal(status.allowsFilter('edgeflow/#'), false, 'wider than the grant');
  assert.equal(new TopicAcl(['%u/#'], 'edgeflow', 'c').allowsFilter('edgeflow/#'), false);
});

test('delivery (authorizeForward): under edgeflow/ only to clients whose subscribe ACL names the topic, anonymous ones included', async () => {
  const f = fixture({
    allowAnonymous: true,
    users: [
      { username: 'watcher', passwordHash: await hashPassword('pw1', FAST), subscribe: ['#'] },
      {
        username: 'hmi',
        passwordHash: await hashPassword('pw1', FAST),
        subscribe: ['#', 'edgeflow/+/ota/status'],
      },
    ],
  });
  const watcher = f.client('w');
  const hmi = f.client('h');
  const anon = f.client('a');
  await f.auth(watcher, 'watcher', 'pw1');
  await f.auth(hmi, 'hmi', 'pw1');
  await f.auth(anon);
  const forwarded = (c: Client, topic: string) => {
    const packet = { topic } as AedesPublishPacket;
    const out = f.sec.authorizeForward(c, packet);
    assert.ok(out === packet || out === null, 'the packet itself or nothing');
    return out === packet;
  };
  for (const c of [watcher, hmi, anon]) {
    assert.equal(forwarded(c, 'sensors/dev/t'), true);
    assert.equal(forwarded(c, 'edgeflowx/dev/t'), true, 'only the level edgeflow');
    assert.equal(forwarded(c, 'edgeflow/gw/gpio/relay/result'), false);
    assert.equal(forwarded(c, 'edgeflow/gw/ota/install'), false, 'nor commands of others');
    assert.equal(forwarded(c, 'edgeflow/deadletter'), false);
    assert.equal(forwarded(c, 'edgeflow'), false);
  }
  assert.equal(forwarded(hmi, 'edgeflow/gw/ota/status'), true);
  assert.equal(forwarded(watcher, 'edgeflow/gw/ota/status'), false);
  assert.equal(forwarded(f.client('never-authenticated'), 'edgeflow/gw/ota/status'), false);
  assert.deepEqual(f.counted, [], 'a filtered delivery is not a violation');
});

test('users: password checked, ACL applied per user; violations counted and logged once per window', async () => {
  const passwordHash = await hashPassword('pw1', FAST);
  const f = fixture({
    allowAnonymous: false,
    users: [{ username: 'dev1', passwordHash, publish: ['sensors/%u/#'], subscribe: [] }],
  });
  const c = f.client('c1');
  assert.deepEqual(await f.auth(c, 'dev1', 'pw1'), { err: null, ok: true });
  assert.equal(await f.pub(c, 'sensors/dev1/t'), null);
  assert.ok(await f.pub(c, 'sensors/dev2/t'));
  assert.ok(await f.pub(c, '$SYS/x'), '$SYS stays reserved');
  assert.equal(await f.sub(c, 'sensors/#'), null, 'refused filter -> SUBACK 0x80');
  const bad = await f.auth(f.client('c2'), 'dev1', 'nope');
  assert.equal(bad.ok, false);
  assert.equal(bad.err?.returnCode, 4);
  assert.equal((await f.auth(f.client('c3'), 'ghost', 'x')).err?.returnCode, 4);
  assert.equal((await f.auth(f.client('c4'))).err?.returnCode, 5, 'anonymous refused');
  assert.deepEqual(f.counted, [
    'publish_denied',
    'subscribe_denied',
    'auth_failed',
    'auth_failed',
    'auth_failed',
  ]);
  const authLines = f.lines.filter((l) => (l as { kind: string }).kind === 'auth_failed');
  assert.equal(authLines.length, 1, 'logged once per window');
  assert.ok(!JSON.stringify(f.lines).includes('nope'), 'no password in logs');
});

test('client certificate: a verified CN names the user without a password', async () => {
  const f = fixture({ allowAnonymous: false, users: [{ username: 'gw7', publish: ['a/#'] }] });
  const tlsConn = { authorized: true, getPeerCertificate: () => ({ subject: { CN: 'gw7' } }) };
  const c = f.client('x', tlsConn);
  assert.equal((await f.auth(c)).ok, true);
  assert.equal(await f.pub(c, 'a/b'), null);
  const unverified = f.client('y', { ...tlsConn, authorized: false });
  assert.equal((await f.auth(unverified)).ok, false);
  assert.equal((await f.auth(f.client('z'), 'gw7')).ok, false, 'no password, no cert');
});

test('rate limit: token bucket per client, refilled with the (fake) clock', async () => {
  const f = fixture({}, { ratePerSec: 10, rateBurst: 2 });
  const c = f.client('r');
  await f.auth(c);
  assert.equal(await f.pub(c, 't'), null);
  assert.equal(await f.pub(c, 't'), null);
  assert.ok(await f.pub(c, 't'), 'burst exhausted');
  f.tick(100);
  assert.equal(await f.pub(c, 't'), null, 'one token after 100 ms at 10/s');
  assert.deepEqual(f.counted, ['rate_limited']);
});
