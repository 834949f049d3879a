import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { OtaState, RequestResult } from '@edgeflow/ota';
import { OtaRequests, type OtaStatus } from '../../src/ota/ota-requests.js';
import type { RequestStore } from '../../src/ota/ota-request-store.js';

const sha = 'c'.repeat(64);
const url = 'https://updates.example/edgeflow-1.1.0.tar.gz?sig=s3cret';

function emptyState(): OtaState {
  return {
    format: 1,
    current: '1.0.0',
    previous: null,
    trial: null,
    install: null,
    rollback: null,
    history: [],
  };
}

/** OtaRequests on an in-memory store, a fake root side and a fake clock. */
function rig(opts: { users?: string[]; allowHttp?: boolean } = {}) {
  const files = new Map<string, string>();
  const writes: string[] = [];
  const store: RequestStore = {
    read: (n) => Promise.resolve(files.get(n)),
    write: (n, d) => {
      writes.push(n);
      files.set(n, d);
      return Promise.resolve();
    },
    remove: (n) => {
      files.delete(n);
      return Promise.resolve();
    },
  };
  const side: { state: OtaState; result: RequestResult | undefined } = {
    state: emptyState(),
    result: undefined,
  };
  const clock = { ms: Date.parse('2025-06-01T00:00:00Z') };
  const published: OtaStatus[] = [];
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void logs.push(l) });
  const make = () =>
    new OtaRequests(
      {
        dataDir: '/unused',
        otaRoot: '/unused',
        users: opts.users ?? ['ops'],
        allowHttp: opts.allowHttp ?? false,
        maxBytes: 1000,
        pollIntervalMs: 0,
        timeouts: { pickupMs: 60_000, downloadMs: 600_000 },
      },
      {
        log,
        now: () => clock.ms,
        publish: (s) => published.push(s),
        store,
        reader: {
          state: () => Promise.resolve(side.state),
          result: () => Promise.resolve(side.result),
        },
      },
    );
  const result = (r: Partial<RequestResult>): void => {
    side.result = {
      format: 1,
      id: 'r1',
      state: 'installed',
      version: '1.1.0',
      trial: true,
      code: null,
      message: 'x',
      at: new Date(clock.ms).toISOString(),
      ...r,
    };
  };
  return { files, writes, side, clock, published, logs, make, result };
}

const body = (o: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ id: 'r1', url, sha256: sha, version: '1.1.0', ...o }));

test('refusals: anonymous, unlisted user, bad JSON, bad fields; nothing is written', async () => {
  const r = rig();
  const ota = r.make();
  const codes = [
    (await ota.submit(body(), null)).code,
    (await ota.submit(body(), 'viewer')).code,
    (await ota.submit(Buffer.from('{'), 'ops')).code,
    (await ota.submit(body({ sha256: 'xyz' }), 'ops')).code,
    (await ota.submit(body({ url: 'http://h/b' }), 'ops')).code,
    (await ota.submit(body({ size: 1001 }), 'ops')).code,
  ];
  assert.deepEqual(codes, [
    'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED',
    'EDGEFLOW_OTA_REQUEST_FORBIDDEN',
    'EDGEFLOW_OTA_REQUEST_INVALID',
    'EDGEFLOW_OTA_REQUEST_INVALID',
    'EDGEFLOW_OTA_REQUEST_INVALID',
    'EDGEFLOW_OTA_TOO_LARGE',
  ]);
  assert.ok(r.published.every((s) => s.state === 'refused'));
  assert.equal(r.published[0]?.id, 'r1', 'the id is echoed when there is one');
  assert.deepEqual(r.writes, []);
});

test('an accepted request is written once; pending, replay and trial refuse the next', async () => {
  const r = rig();
  const ota = r.make();
  const s = await ota.submit(body(), 'ops');
  assert.equal(s.state, 'accepted');
  assert.equal(
    s.message,
    'request written for the OTA tool (https://updates.example/edgeflow-1.1.0.tar.gz?…)',
  );
  const req = JSON.parse(r.files.get('request.json') ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(req).sort(), [
    'format',
    'id',
    'requestedAt',
    'requestedBy',
    'sha256',
    'url',
    'version',
  ]);
  assert.equal(req.requestedBy, 'ops');
  assert.equal((await ota.submit(body({ id: 'r2' }), 'ops')).code, 'EDGEFLOW_OTA_REQUEST_PENDING');
  // The root side refuses it: the request is over, its id stays burned.
  r.result({ state: 'failed', code: 'EDGEFLOW_OTA_DIGEST_MISMATCH', message: 'sha256 differs' });
  await ota.poll();
  assert.equal(r.published.at(-1)?.state, 'failed');
  assert.equal(r.files.has('request.json'), false);
  assert.equal((await ota.submit(body(), 'ops')).code, 'EDGEFLOW_OTA_REQUEST_REPLAYED');
  r.side.state = {
    ...emptyState(),
    trial: {
      version: '1.1.0',
      from: '1.0.0',
      installedAt: 'x',
      starts: 1,
      firstStartAt: null,
      probationSec: 1,
      deadlineSec: 2,
      lastStop: null,
    },
  };
  assert.equal((await ota.submit(body({ id: 'r3' }), 'ops')).code, 'EDGEFLOW_OTA_TRIAL_RUNNING');
  assert.doesNotMatch(r.logs.join(''), /s3cret/, 'URL secrets stay out of the logs');
});

test('concurrent submits: exactly one is accepted', async () => {
  const r = rig();
  const ota = r.make();
  const out = await Promise.all([ota.submit(body(), 'ops'), ota.submit(body({ id: 'r2' }), 'ops')]);
  assert.deepEqual(out.map((s) => s.state).sort(), ['accepted', 'refused']);
});

test('progress through the trial is published once per state, across an agent restart', async () => {
  const r = rig();
  let ota = r.make();
  await ota.submit(body(), 'ops');
  await ota.poll();
  assert.equal(r.published.length, 1, 'nothing new before the root side answers');
  r.result({ state: 'downloading', trial: false });
  await ota.poll();
  await ota.poll();
  r.clock.ms += 1000;
  r.result({ state: 'installed', trial: true });
  r.side.state = {
    ...emptyState(),
    current: '1.1.0',
    previous: '1.0.0',
    trial: {
      version: '1.1.0',
      from: '1.0.0',
      installedAt: 'x',
      starts: 0,
      firstStartAt: null,
      probationSec: 1,
      deadlineSec: 2,
      lastStop: null,
    },
  };
  await ota.poll();
  assert.deepEqual(
    r.published.map((s) => s.state),
    ['accepted', 'downloading', 'installed'],
  );
  // The agent restarts into the trial: a new instance resumes from the request file.
  ota.stop();
  r.side.state.trial = { ...r.side.state.trial!, starts: 1 };
  ota = r.make();
  await ota.start();
  assert.equal(r.published.at(-1)?.state, 'trial');
  r.clock.ms += 1000;
  r.side.state = {
    ...r.side.state,
    trial: null,
    history: [
      {
        at: new Date(r.clock.ms).toISOString(),
        event: 'rolled-back',
        version: '1.1.0',
        from: '1.1.0',
        reason: 'crash loop',
      },
    ],
  };
  await ota.poll();
  assert.deepEqual(r.published.at(-1), {
    id: 'r1',
    state: 'rolled-back',
    code: 'EDGEFLOW_OTA_ROLLED_BACK',
    message: 'crash loop',
    version: '1.1.0',
    at: new Date(r.clock.ms).toISOString(),
  });
  assert.equal(r.files.has('request.json'), false, 'a finished request is removed');
});

test('a request nobody picks up expires and frees the way', async () => {
  const r = rig();
  const ota = r.make();
  await ota.submit(body(), 'ops');
  r.clock.ms += 60_001;
  await ota.poll();
  assert.equal(r.published.at(-1)?.code, 'EDGEFLOW_OTA_REQUEST_EXPIRED');
  assert.equal((await ota.submit(body({ id: 'r2' }), 'ops')).state, 'accepted');
});
