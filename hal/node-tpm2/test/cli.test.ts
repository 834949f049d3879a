import { createErrorClass } from '@edgeflow/core';
import assert from 'node:assert/strict';
import { runCaptured } from '@edgeflow/core/testing';
import { describe, it } from 'node:test';
import { runCli } from '../src/cli.js';
import { errorCatalog, TpmError } from '../src/errors.js';
import { loadBinding } from '../src/native/load-binding.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCaptured(runCli, argv);
}

describe('attest runCli usage', () => {
  it('prints help with exit 0 for every subcommand', async () => {
    for (const sub of ['enroll', 'verify', 'policy']) {
      const r = await run([sub, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`edgeflow attest ${sub}`));
    }
    assert.equal((await run(['--help'])).code, 0);
  });
  it('returns 2 for usage errors', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['verify', '--agent', 'http://x'])).code, 2);
    assert.equal((await run(['enroll', '--bogus'])).code, 2);
  });
  it('returns 1 with the error code when the agent cannot be reached', async () => {
    const r = await run([
      'enroll',
      '--agent',
      'http://127.0.0.1:9',
      '--out',
      '/nonexistent/x.json',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err, /EDGEFLOW_ATTEST_AGENT_REQUEST/);
  });
});

describe('errors and the loader', () => {
  it('catalogs EDGEFLOW_TPM_* and EDGEFLOW_ATTEST_* codes; instanceof works on branded copies', () => {
    for (const k of Object.keys(errorCatalog)) assert.match(k, /^EDGEFLOW_(TPM|ATTEST)_[A-Z_]+$/);
    const e = new TpmError('EDGEFLOW_TPM_UNAVAILABLE', 'x');
    // What a second copy of the package in node_modules would construct.
    const copy = new (class TpmError extends createErrorClass('TpmError', errorCatalog) {})(
      'EDGEFLOW_TPM_UNAVAILABLE',
      'x',
    );
    assert.ok(e instanceof TpmError && e instanceof Error && copy instanceof TpmError);
  });
  it('reports a missing addon as unavailable with the package to install, without throwing', () => {
    const st = loadBinding('/nonexistent/node_tpm2.node');
    assert.equal(st.available, false);
    assert.match(st.available ? '' : st.reason, /^unavailable: install libtss2-dev/);
  });
});
