import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OtaView } from '../src/api/types.js';
import { trialClock } from '../src/lib/countdown.js';

const base: OtaView = {
  now: 0,
  root: '/opt/edgeflow',
  managed: true,
  current: '1.1.0',
  previous: '1.0.0',
  trial: {
    version: '1.1.0',
    from: '1.0.0',
    installedAt: '2026-12-07T10:00:00Z',
    firstStartAt: '2026-12-07T10:00:00Z',
    probationSec: 60,
    deadlineSec: 600,
    starts: 1,
  },
  history: [],
  report: { version: '1.1.0', readyAt: null, healthySince: null, committedAt: null, failure: null },
  deadlineAt: 600_000,
  commitAt: null,
  canCommit: false,
  canRollback: true,
};

test('the countdowns follow the agent clock through the phases of a trial', () => {
  assert.equal(trialClock({ ...base, trial: null }, 0), null);
  const waiting = trialClock(base, 100_000);
  assert.equal(waiting?.phase, 'waiting-ready');
  assert.equal(waiting?.rollbackInSec, 500);
  assert.equal(waiting?.commitInSec, null);
  const probation = trialClock({ ...base, commitAt: 160_000 }, 130_000);
  assert.deepEqual([probation?.phase, probation?.commitInSec], ['probation', 30]);
  assert.equal(trialClock({ ...base, commitAt: 160_000 }, 170_000)?.phase, 'committing');
  assert.equal(trialClock(base, 700_000)?.phase, 'overdue');
  const failed = { ...base, report: { ...base.report!, failure: 'health check failed' } };
  assert.equal(trialClock(failed, 100_000)?.phase, 'failed');
});
