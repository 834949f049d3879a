// The install script on a machine without libtss2-dev: one clear line, exit 0 (npm ci passes);
// exit 1 only when the native part is required (EDGEFLOW_TPM_REQUIRE_NATIVE=1).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const script = fileURLToPath(new URL('../../scripts/build-native.mjs', import.meta.url));
// No pkg-config on PATH is what a machine without the TSS development packages looks like.
const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
delete env['EDGEFLOW_TPM_REQUIRE_NATIVE'];

describe('scripts/build-native.mjs without libtss2-dev', () => {
  it('skips the build with one line naming the package, exit 0', () => {
    const r = spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
    assert.equal(r.status, 0);
    const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /node-tpm2: native addon not built: .*libtss2-dev/);
  });
  it('fails when the native part is required', () => {
    const r = spawnSync(process.execPath, [script], {
      env: { ...env, EDGEFLOW_TPM_REQUIRE_NATIVE: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
  });
});
