import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseLoopback, parsePcrs } from '../../src/cli/args.js';
import { drillRunOptions } from '../../src/cli/ota-drill-cli.js';
import { runCli } from '../../src/cli/run-cli.js';
import { EdgeReadyError } from '../../src/errors.js';

test('durations', () => {
  assert.equal(parseDuration('72h'), 72 * 3_600_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  for (const bad of ['', '2', 'm', '2x', '-2m', '0s', '2m junk'])
    assert.throws(
      () => parseDuration(bad),
      (e: unknown) => e instanceof EdgeReadyError && e.code === 'EDGEFLOW_ER_BAD_DURATION',
      bad,
    );
});

test('PCR lists and loopback pairs', () => {
  assert.deepEqual(parsePcrs('0-3,23,2'), [0, 1, 2, 3, 23]);
  assert.throws(() => parsePcrs('24'));
  assert.deepEqual(parseLoopback('11:13'), { out: '11', in: '13' });
  assert.throws(() => parseLoopback('11'));
});

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

test('usage errors exit 2, --help exits 0, list exits 0', async () => {
  const a = io();
  assert.equal(await runCli([], a.io), 2);
  assert.equal(await runCli(['--help'], a.io), 0);
  assert.equal(await runCli(['run', '--help'], a.io), 0);
  assert.equal(await runCli(['bogus'], a.io), 2);
  assert.equal(await runCli(['run', '--mode', 'soak', '--out', '/tmp/x'], a.io), 2);
  assert.equal(await runCli(['run', '--mode', 'stress', '--out', '/tmp/x'], a.io), 2);
  assert.equal(
    await runCli(['run', '--mode', 'stress', '--duration', '2q', '--out', '/tmp/x'], a.io),
    2,
  );
  assert.equal(await runCli(['verify-report', 'x.tar'], a.io), 2);
  assert.match(a.err(), /EDGEFLOW_ER_BAD_DURATION/);
  const b = io();
  assert.equal(await runCli(['list', '--json'], b.io), 0);
  assert.ok((JSON.parse(b.out()) as unknown[]).length > 20);
});

test('the OTA drill options: one source of bundles, a pair goes together', async () => {
  assert.deepEqual(drillRunOptions({ 'ota-drill-key': '/k', 'ota-drill-probation': '3s' }), {
    otaDrillKey: '/k',
    otaDrillProbationSec: 3,
  });
  assert.deepEqual(drillRunOptions({ 'ota-drill-bundle': '/g', 'ota-drill-bad': '/b' }), {
    otaDrillBundle: '/g',
    otaDrillBad: '/b',
  });
  const base = ['run', '--mode', 'functional', '--out', '/tmp/x'];
  const a = io();
  assert.equal(await runCli([...base, '--ota-drill-bundle', 'g.tar.gz'], a.io), 2);
  assert.match(a.err(), /--ota-drill-bundle GOOD and --ota-drill-bad BAD go together/);
  const b = io();
  assert.equal(
    await runCli(
      [...base, '--ota-drill-key', 'k', '--ota-drill-bundle', 'g', '--ota-drill-bad', 'b'],
      b.io,
    ),
    2,
  );
  assert.match(b.err(), /give it or --ota-drill-bundle\/--ota-drill-bad, not both/);
  const c = io();
  assert.equal(await runCli(['ota-drill-bundles', '--from', '/x'], c.io), 2);
  assert.match(c.err(), /usage: edgeready ota-drill-bundles --from RELEASE_DIR --version VERSION/);
});
