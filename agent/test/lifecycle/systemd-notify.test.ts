import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSystemdNotifier, watchdogIntervalMs } from '../../src/lifecycle/systemd-notify.js';

test('without NOTIFY_SOCKET everything is a no-op and the addon is not loaded', () => {
  let loaded = false;
  const n = createSystemdNotifier({
    env: {},
    pid: 1,
    loadAddon: () => {
      loaded = true;
      throw new Error('should not load');
    },
  });
  assert.equal(n.active, false);
  n.ready();
  n.watchdog();
  n.stopping();
  assert.equal(loaded, false);
});

test('with NOTIFY_SOCKET the addon receives READY, WATCHDOG, STOPPING', () => {
  const calls: string[] = [];
  const n = createSystemdNotifier({
    env: { NOTIFY_SOCKET: '/run/systemd/notify' },
    pid: 42,
    loadAddon: () => ({
      ready: () => void calls.push('READY=1'),
      watchdog: () => void calls.push('WATCHDOG=1'),
      stopping: (pid) => void calls.push(`STOPPING=1 ${pid}`),
      sendStatus: (t) => void calls.push(`STATUS=${t}`),
    }),
  });
  n.ready();
  n.watchdog();
  n.status('ok');
  n.stopping();
  assert.deepEqual(calls, ['READY=1', 'WATCHDOG=1', 'STATUS=ok', 'STOPPING=1 42']);
});

test('an addon that fails to load is reported once and degrades to a no-op', () => {
  const reasons: string[] = [];
  const n = createSystemdNotifier({
    env: { NOTIFY_SOCKET: '/x' },
    pid: 1,
    loadAddon: () => {
      throw new Error('Cannot find module');
    },
    onUnavailable: (r) => void reasons.push(r),
  });
  assert.equal(n.active, false);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] as string, /libsystemd-dev/);
});

test('watchdog interval is half of WATCHDOG_USEC, only for our PID', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 5), 5000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '5' }, 5), 5000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '6' }, 5), undefined);
  assert.equal(watchdogIntervalMs({}, 5), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'abc' }, 5), undefined);
});
