import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, startAgent } from '../helpers/agent-process.js';

function edgeflow(args: string[]): string {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `edgeflow ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function bundle(dir: string, keys: string, version: string): Promise<string> {
  const rel = join(dir, `rel-${version}`);
  await mkdir(rel, { recursive: true });
  await writeFile(join(rel, 'VERSION'), version);
  const out = join(dir, `${version}.tar.gz`);
  edgeflow([
    'ota',
    'build',
    rel,
    '--out',
    out,
    '--name',
    'edgeflow',
    '--version',
    version,
    '--board',
    'generic',
    '--key',
    join(keys, 'test.key'),
  ]);
  return out;
}

test('a release on trial is committed by the real agent once healthy for the probation window', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-ota-trial-'));
  const root = join(dir, 'opt');
  const keys = join(dir, 'keys');
  const dataDir = join(dir, 'data');
  edgeflow(['ota', 'keygen', '--out', keys, '--name', 'test']);
  const common = ['--root', root, '--keys', keys, '--board', 'generic', '--no-restart'];
  edgeflow(['ota', 'install', await bundle(dir, keys, '1.0.0'), ...common, '--commit']);
  edgeflow([
    'ota',
    'install',
    await bundle(dir, keys, '1.1.0'),
    ...common,
    '--probation',
    '2',
    '--deadline',
    '120',
  ]);
  const before = JSON.parse(edgeflow(['ota', 'status', '--root', root, '--json'])) as {
    trial: { version: string } | null;
  };
  assert.equal(before.trial?.version, '1.1.0');

  const config = join(dir, 'edgeflow.yaml');
  await writeFile(config, `ota:\n  root: ${root}\n  healthIntervalSec: 1\n`);
  const agent = await startAgent({ dataDir, args: ['--config', config] });
  t.after(() => agent.stop());
  const deadline = Date.now() + 30_000;
  while (!agent.logs.some((l) => l.event === 'ota.committed')) {
    assert.ok(Date.now() < deadline, 'the agent reports a commit within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(agent.logs.some((l) => l.event === 'ota.trial' && l.version === '1.1.0'));
  const report = JSON.parse(await readFile(join(dataDir, 'ota-trial.json'), 'utf8')) as {
    version: string;
    readyAt: string | null;
    committedAt: string | null;
    failure: unknown;
  };
  assert.equal(report.version, '1.1.0');
  assert.ok(report.readyAt !== null && report.committedAt !== null);
  assert.equal(report.failure, null);
  // The root-side tool finalises the commit the agent reported.
  const after = JSON.parse(
    edgeflow([
      'ota',
      'status',
      '--root',
      root,
      '--report-file',
      join(dataDir, 'ota-trial.json'),
      '--json',
    ]),
  ) as {
    current: string | null;
    trial: unknown;
  };
  assert.equal(after.trial, null);
  assert.equal(after.current, '1.1.0');
});
