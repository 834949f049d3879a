import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INSTALL_STEPS } from '../src/deps.js';
import { install } from '../src/install.js';
import { loadState } from '../src/state.js';
import { status } from '../src/trial.js';
import { makeBundle, makeRelease } from './helpers/releases.js';
import { localRig } from './helpers/rig.js';
import { serveFile } from './helpers/server.js';

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    p.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

// Power loss at every step of an install: the next OTA run (here `status`, in production the
// ExecStartPre hook) leaves `current` on a complete release, old or new, and no debris.
for (const step of INSTALL_STEPS) {
  test(`SIGKILL at "${step}" recovers to a working release`, async (t) => {
    const r = await localRig();
    await install(
      r.paths,
      r.opts(await makeBundle(r.dir, await makeRelease(r.dir, '1.0.0'), '1.0.0', r.privatePem)),
      r.deps,
    );
    const file = await makeBundle(r.dir, await makeRelease(r.dir, '1.1.0'), '1.1.0', r.privatePem);
    const srv = await serveFile(file);
    t.after(() => srv.close());
    const sha = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    const source = step === 'downloaded' ? [srv.url, '--sha256', sha] : [file];
    const p = r.paths;
    const res = await run(
      [
        'install',
        ...source,
        '--root',
        p.root,
        '--keys',
        r.keysDir,
        '--board',
        'test-board',
        '--device-id',
        'd',
        '--no-restart',
        '--config-dir',
        p.configDir,
        '--cache-dir',
        p.cacheDir,
        '--report-file',
        p.reportFile,
      ],
      { EDGEFLOW_OTA_TEST_KILL_AT: step },
    );
    assert.equal(res.signal, 'SIGKILL', `not killed at ${step}`);
    const { state } = await status(p, r.deps);
    const cur = state.current ?? '';
    assert.ok(['1.0.0', '1.1.0'].includes(cur));
    assert.equal(await readlink(p.current), `releases/${cur}`);
    assert.ok((await readFile(join(p.current, 'run.sh'), 'utf8')).trim().endsWith(`echo ${cur}`));
    assert.deepEqual(await readdir(p.staging), []);
    assert.equal(state.install, null);
    const s = await loadState(p);
    if (cur === '1.1.0')
      assert.equal(s.trial?.version, '1.1.0', 'a forward-completed install is on trial');
    else assert.equal(s.trial, null);
    assert.deepEqual(
      (await readdir(p.releases)).sort(),
      cur === '1.1.0' ? ['1.0.0', '1.1.0'] : ['1.0.0'],
    );
    t.diagnostic(`killed at ${step}: now on ${cur}`);
  });
}
