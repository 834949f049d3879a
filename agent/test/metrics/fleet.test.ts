import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerFleetMetrics } from '../../src/metrics/fleet.js';
import { createMetrics } from '../../src/metrics/metrics.js';

test('an unreadable OTA state is a 0 on edgeflow_ota_state_readable, not a failed scrape', async () => {
  const registry = new Registry();
  let reads = 0;
  registerFleetMetrics(registry, {
    version: '9.9.9',
    otaRoot: '/nowhere',
    readOtaState: () => {
      reads += 1;
      return Promise.reject(new Error('EDGEFLOW_OTA_BAD_STATE'));
    },
  });
  const text = await registry.metrics();
  assert.match(text, /^edgeflow_ota_state_readable 0$/m);
  assert.match(text, /^edgeflow_ota_trial 0$/m);
  assert.doesNotMatch(text, /^edgeflow_ota_release_info\{/m);
  assert.equal(reads, 1, 'one read of the state file per scrape, shared by the OTA series');
  assert.match(text, /^edgeflow_build_info\{version="9\.9\.9",/m);
  assert.match(text, /^edgeflow_attestation_state\{state="starting"\} 1$/m, 'before the plugin');
  assert.doesNotMatch(text, /^edgeflow_hal_board_info\{/m, 'no board before the HAL started');
});

test('process metrics keep no gauge named like a counter', async () => {
  const m = createMetrics({ cacheSize: () => 0, mqttClients: () => 0 });
  const text = await m.registry.metrics();
  assert.match(text, /^nodejs_active_handles\{type="\w+"\} \d+$/m, 'the per-type series stays');
  assert.doesNotMatch(text, /^# TYPE \w+_total gauge$/m);
});
