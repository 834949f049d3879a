import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { inRollout, rolloutBucket } from '../src/rollout.js';

test('rollout bucket is deterministic and documented: sha256("name:device")[0..4] BE % 10000', () => {
  assert.equal(rolloutBucket('edgeflow', 'dev-1'), rolloutBucket('edgeflow', 'dev-1'));
  // Pinned so the documented formula cannot drift silently.
  const d = createHash('sha256').update('edgeflow:dev-1').digest();
  assert.equal(rolloutBucket('edgeflow', 'dev-1'), d.readUInt32BE(0) % 10000);
});

test('0 % admits nobody, 100 % everybody, and raising the percentage only adds devices', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `device-${i}`);
  assert.equal(ids.filter((id) => inRollout('edgeflow', id, 0)).length, 0);
  assert.equal(ids.filter((id) => inRollout('edgeflow', id, 100)).length, ids.length);
  let prev = new Set<string>();
  for (const pct of [1, 5, 10, 25, 50, 75, 99]) {
    const cur = new Set(ids.filter((id) => inRollout('edgeflow', id, pct)));
    for (const id of prev) assert.ok(cur.has(id), `${id} left the rollout at ${pct}%`);
    prev = cur;
  }
  const half = ids.filter((id) => inRollout('edgeflow', id, 50)).length;
  assert.ok(half > 850 && half < 1150, `50% admitted ${half} of 2000`);
});
