// The suite's own agent runs with the environment the shipped unit gives the agent, where it
// changes what the suite measures (ER-RES-MEMORY judges the agent's RSS).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { SHIPPED_AGENT_ENV } from '../../src/agent/agent-process.js';

const unit = new URL('../../../../systemd/edgeflow-agent.service', import.meta.url);

test("the suite's own agent gets the shipped unit's MALLOC_ARENA_MAX", async () => {
  const text = await readFile(unit, 'utf8');
  const set = [...text.matchAll(/^Environment=(.*)$/gm)]
    .flatMap((m) => (m[1] ?? '').split(/\s+/))
    .map((kv) => kv.split('=') as [string, string]);
  const unitEnv = Object.fromEntries(set.filter(([k]) => k === 'MALLOC_ARENA_MAX'));
  assert.ok(unitEnv.MALLOC_ARENA_MAX, 'the shipped unit no longer sets MALLOC_ARENA_MAX');
  assert.deepEqual(SHIPPED_AGENT_ENV, unitEnv);
});
