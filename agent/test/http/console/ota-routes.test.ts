import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { OtaTrial } from '../../../src/ota/ota-trial.js';
import { TOKEN_SHA, auth, consoleServer, host } from './fixture.js';

/** An OTA root whose state has 1.1.0 on trial, started `startedAgoSec` ago (as prestart leaves it). */
async function otaRoot(dir: string, startedAgoSec: number): Promise<string> {
  const root = join(dir, 'opt');
  await mkdir(join(root, 'state'), { recursive: true });
  const at = new Date(Date.now() - startedAgoSec * 1000).toISOString();
  await writeFile(
    join(root, 'state', 'ota.json'),
    JSON.stringify({
      format: 1,
      current: '1.1.0',
      previous: '1.0.0',
      trial: {
        version: '1.1.0',
        from: '1.0.0',
        installedAt: at,
        starts: 1,
        firstStartAt: at,
        probationSec: 300,
        deadlineSec: 600,
        lastStop: null,
      },
      install: null,
      rollback: null,
      history: [
        { at, event: 'installed', version: '1.1.0', from: '1.0.0' },
        { at, event: 'trial-started', version: '1.1.0', from: '1.0.0' },
      ],
    }),
  );
  return root;
}

/** A second valid token (in http.apiTokens) that no grant names. */
const VIEWER = 'v'.repeat(64);
const viewer = { ...host, authorization: `Bearer ${VIEWER}` };
const tokens = [
  { name: 'ops', sha256: TOKEN_SHA },
  { name: 'viewer', sha256: createHash('sha256').update(VIEWER).digest('hex') },
];

/** `grant`: the token names in ota.access.apiTokens; null = the key is not written (default). */
async function setup(grant: string[] | null = ['ops']) {
  const holder: { trial?: OtaTrial } = {};
  const exits: string[] = [];
  const root = await otaRoot(await mkdtemp(join(tmpdir(), 'console-ota-')), 30);
  const ota = grant === null ? { root } : { root, access: { apiTokens: grant } };
  const s = await consoleServer({
    ota: () => holder.trial,
    config: { ota, http: { apiTokens: tokens } },
  });
  const trial = await OtaTrial.open(
    { root, dataDir: s.dataDir, healthIntervalMs: 60_000 },
    {
      log: pino({ level: 'silent' }),
      now: Date.now,
      healthy: () => ({ ok: true, detail: 'ok' }),
      onRollback: (why) => exits.push(why),
    },
  );
  holder.trial = trial;
  return { ...s, trial, exits, root };
}

test('the Updates view shows current, previous, the trial and its rollback deadline', async (t) => {
  const s = await setup();
  t.after(() => s.app.close());
  const v = (await s.app.inject({ url: '/v1/console/ota', headers: host })).json();
  assert.equal(v.managed, true);
  assert.deepEqual([v.current, v.previous, v.trial.version], ['1.1.0', '1.0.0', '1.1.0']);
  const left = (v.deadlineAt - v.now) / 1000;
  assert.ok(left > 560 && left <= 570, `deadline in ${left} s`);
  assert.equal(v.commitAt, null, 'no commit time before READY and health');
  assert.equal(v.report.readyAt, null);
  assert.deepEqual([v.canCommit, v.canRollback], [false, true]);
  assert.equal(v.history.length, 2);
});

test('commit and rollback need ota.access.apiTokens: no token holds it by default, an unlisted one gets 403', async (t) => {
  for (const grant of [null, ['ops']]) {
    const s = await setup(grant);
    t.after(() => s.app.close());
    await s.trial.ready();
    const refusedBy = grant === null ? [auth, viewer] : [viewer];
    for (const headers of refusedBy)
      for (const url of ['/v1/console/ota/commit', '/v1/console/ota/rollback']) {
        const r = await s.app.inject({ method: 'POST', url, headers, payload: {} });
        assert.equal(
          r.statusCode,
          403,
          `${url} with ${headers.authorization.slice(7, 8)}…: ${r.body}`,
        );
        assert.equal(r.json().error.code, 'EDGEFLOW_HTTP_FORBIDDEN');
        assert.match(r.json().error.message, /add it to ota\.access\.apiTokens/);
      }
    const report = JSON.parse(await readFile(join(s.dataDir, 'ota-trial.json'), 'utf8'));
    assert.equal(report.committedAt, null, 'the trial is not committed');
    assert.equal(report.failure ?? null, null, 'nor rejected');
    assert.deepEqual(s.exits, []);
    s.trial.stop();
  }
});

test('commit needs the token, waits for READY, then reports the commit for root to finalise', async (t) => {
  const s = await setup();
  t.after(() => s.app.close());
  const post = (headers: Record<string, string>) =>
    s.app.inject({ method: 'POST', url: '/v1/console/ota/commit', headers, payload: {} });
  assert.equal((await post(host)).statusCode, 401);
  assert.equal(
    (await post({ ...host, authorization: `Bearer ${'d'.repeat(64)}` })).statusCode,
    401,
  );
  const early = await post(auth);
  assert.equal(early.statusCode, 409);
  assert.equal(early.json().error.code, 'EDGEFLOW_CONSOLE_TRIAL_STATE');
  await s.trial.ready();
  const ok = await post(auth);
  assert.equal(ok.statusCode, 200, ok.body);
  const report = JSON.parse(await readFile(join(s.dataDir, 'ota-trial.json'), 'utf8'));
  assert.notEqual(report.committedAt, null);
  assert.equal((await post(auth)).statusCode, 200, 'committing again is idempotent');
  const again = JSON.parse(await readFile(join(s.dataDir, 'ota-trial.json'), 'utf8'));
  assert.equal(again.committedAt, report.committedAt);
  const rb = await s.app.inject({
    method: 'POST',
    url: '/v1/console/ota/rollback',
    headers: auth,
    payload: {},
  });
  assert.equal(rb.statusCode, 409);
  assert.deepEqual(s.exits, []);
  s.trial.stop();
});

test('rollback needs the token, reports the failure, answers, then asks the agent to exit', async (t) => {
  const s = await setup();
  t.after(() => s.app.close());
  await s.trial.ready();
  const denied = await s.app.inject({
    method: 'POST',
    url: '/v1/console/ota/rollback',
    headers: host,
    payload: {},
  });
  assert.equal(denied.statusCode, 401);
  assert.deepEqual(s.exits, []);
  const r = await s.app.inject({
    method: 'POST',
    url: '/v1/console/ota/rollback',
    headers: auth,
    payload: {},
  });
  assert.equal(r.statusCode, 200, r.body);
  const report = JSON.parse(await readFile(join(s.dataDir, 'ota-trial.json'), 'utf8'));
  assert.match(report.failure, /operator/);
  await new Promise((res) => setImmediate(res));
  assert.equal(s.exits.length, 1);
  assert.match(s.exits[0] ?? '', /operator/);
});

test('without OTA state the view says so, and commit is refused with its code', async (t) => {
  const s = await consoleServer({ config: { ota: { access: { apiTokens: ['ops'] } } } });
  t.after(() => s.app.close());
  const v = (await s.app.inject({ url: '/v1/console/ota', headers: host })).json();
  assert.equal(v.managed, false);
  assert.equal(v.trial, null);
  const c = await s.app.inject({
    method: 'POST',
    url: '/v1/console/ota/commit',
    headers: auth,
    payload: {},
  });
  assert.equal(c.statusCode, 409);
});
