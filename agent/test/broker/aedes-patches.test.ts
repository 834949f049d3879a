import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentError } from '../../src/errors.js';
import {
  AEDES_PATCHES,
  aedesDir,
  assertAedesPatched,
  missingAedesPatches,
} from '../../src/broker/aedes-patches.js';

// Contract: the aedes the agent runs on carries every patch of patches/aedes+*.patch; an
// aedes without one (a fresh install that skipped the postinstall, an upgrade the patch no
// longer applies to) is refused at start, naming the patch.

test('the installed aedes carries every EdgeFlow patch', () => {
  assert.deepEqual(missingAedesPatches(), []);
  assert.doesNotThrow(() => assertAedesPatched());
});

test('an aedes without a patch is refused, naming the patch and the fix', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edgeflow-aedes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(aedesDir(), dir, { recursive: true });
  for (const p of AEDES_PATCHES) {
    const file = join(dir, p.file);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replaceAll(`edgeflow-patch: ${p.name}`, 'unpatched'));
    assert.ok(missingAedesPatches(dir).includes(`${p.name} (${p.file})`), p.name);
  }
  assert.throws(
    () => assertAedesPatched(dir),
    (err: unknown) =>
      err instanceof AgentError &&
      err.code === 'EDGEFLOW_MQTT_BROKER_UNPATCHED' &&
      err.message.includes('dedupe-by-message') &&
      err.message.includes('npm ci'),
  );
});
