import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runCli } from '../src/cli.js';
import { cli, deps, fixtureRoot } from './helpers.js';

test('an install is logged on stderr with the shared logger setup (JSON off a terminal)', async () => {
  const root = await fixtureRoot('rpi5');
  const r = await cli(['install', 'bme280', '--boot-root', root]);
  assert.equal(r.code, 0, r.err);
  const rec = JSON.parse(r.err.trim()) as Record<string, unknown>;
  assert.equal(rec.level, 'info');
  assert.equal(rec.service, 'edgeflow-dt');
  assert.equal(rec.event, 'dt.installed');
  assert.equal(rec.overlay, 'bme280');
  assert.equal(rec.board, 'rpi5');
  assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT/);
  const quiet = await cli(['remove', 'bme280', '--boot-root', root, '--log-level', 'warn']);
  assert.equal(quiet.code, 0, quiet.err);
  assert.equal(quiet.err, '', '--log-level warn leaves info out');
  const pretty = await cli(['rollback', '--boot-root', root, '--log-format', 'pretty']);
  assert.match(
    pretty.err,
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}edgeflow-dt dt\.rolled_back: rolled back "remove bme280"/,
  );
});

test('a bad EDGEFLOW_LOG_FORMAT is a usage error that echoes the value', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await runCli(
    ['status', '--boot-root', '/nonexistent'],
    { stdout, stderr, env: { EDGEFLOW_LOG_FORMAT: 'fancy' } },
    deps(),
  );
  assert.equal(code, 2);
  assert.match(
    err,
    /EDGEFLOW_DT_USAGE: EDGEFLOW_LOG_FORMAT="fancy" is not one of auto, json, pretty/,
  );
});
