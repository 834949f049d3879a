import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokenInternals, INTERNAL_CONTRACTS } from '../../src/broker/internals.js';

// Contract tests of every private internal the agent patches or reads (pinned versions in
// agent/package.json). A dependency update that moves one fails here, naming the patch.

for (const c of INTERNAL_CONTRACTS) {
  test(`internal contract ${c.name}: ${c.internal} (used by ${c.where})`, async () => {
    assert.deepEqual(await brokenInternals([c]), []);
  });
}

test('a broken contract is reported with its name and the code that relies on it', async () => {
  const broken = await brokenInternals([
    {
      name: 'example',
      where: 'agent/src/example.ts',
      internal: 'dep: Thing#_gone',
      upstreamHook: 'none',
      check: () =>
        Promise.reject(new Error('internal contract example broken: Thing#_gone missing')),
    },
  ]);
  assert.deepEqual(broken, [
    'example (agent/src/example.ts): internal contract example broken: Thing#_gone missing',
  ]);
});
