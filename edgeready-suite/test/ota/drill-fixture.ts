// Raw evidence of a real OTA drill under systemd, shaped as systemd-drill.ts records it (values
// from a run of test/run/ota-drill.sys.test.ts), for the judge's unit and negative tests.
import type { ServingProbe } from '../../src/agent/serving.js';
import type { SystemdDrillRaw, TrialRun } from '../../src/ota/drill-types.js';

const T0 = Date.parse('2026-12-08T13:36:00.000Z');
export const GOOD = '1.0.0-edgeready.1796650581.1';
export const BAD = '1.0.0-edgeready.1796650581.2';

/** A probe of the unit's main process serving the URL from `release`. */
export function serving(
  at: number,
  release: string | null,
  pid = 4242,
  nRestarts = 0,
): ServingProbe {
  return {
    at: T0 + at,
    healthy: true,
    unit: {
      unit: 'edgeflow-agent',
      activeState: 'active',
      mainPid: pid,
      nRestarts,
      invocationId: `inv-${pid}`,
      fragmentPath: '/etc/systemd/system/edgeflow-agent.service',
    },
    pid,
    cmdline:
      release === null
        ? '/opt/edgeflow/node/bin/node /opt/edgeflow/pinned/agent/dist/src/cli.js agent'
        : `/opt/edgeflow/node/bin/node /opt/edgeflow/releases/${release}/bin/../agent/dist/src/cli.js agent`,
    release,
  };
}

const good: TrialRun = {
  role: 'good',
  version: GOOD,
  installStartedAt: T0 + 1_000,
  installedAt: T0 + 2_500,
  outcome: 'committed',
  outcomeSeenAt: T0 + 8_600,
  reason: 'healthy for 3s after READY (agent report)',
  expect: GOOD,
  serving: serving(8_900, GOOD, 4300),
  servingAt: T0 + 8_900,
};

const bad: TrialRun = {
  role: 'bad',
  version: BAD,
  installStartedAt: T0 + 9_000,
  installedAt: T0 + 10_400,
  outcome: 'rolled-back',
  outcomeSeenAt: T0 + 12_100,
  reason: 'restarted during trial after service result "exit-code" (exited 1)',
  expect: GOOD,
  serving: serving(15_000, GOOD, 4400, 1),
  servingAt: T0 + 15_000,
};

/** A drill that passes: the good release committed, the failing one rolled back in 4.6 s. */
export function healthyDrill(): SystemdDrillRaw {
  return {
    mode: 'systemd',
    unit: 'edgeflow-agent',
    url: 'http://127.0.0.1:8080',
    tool: '/opt/edgeflow/tool/bin/edgeflow-ota',
    source: 'key',
    probationSec: 3,
    startedAt: T0,
    before: {
      current: '1.0.0',
      previous: null,
      trial: null,
      link: 'releases/1.0.0',
      serving: serving(0, '1.0.0', 4200),
    },
    good,
    bad,
    after: {
      current: GOOD,
      previous: null,
      trial: null,
      link: `releases/${GOOD}`,
      serving: serving(15_500, GOOD, 4400, 1),
    },
    history: [],
    journal: [],
    steps: [],
    cleanup: [],
    error: null,
  };
}
