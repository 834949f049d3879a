import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchSensorTopic } from '../../src/ingest/topic.js';

test('sensors/<device>/<sensor> maps to <device>/<sensor>', () => {
  assert.deepEqual(matchSensorTopic('sensors/dev1/temp', 'sensors'), {
    kind: 'sensor',
    key: 'dev1/temp',
    device: 'dev1',
    sensor: 'temp',
  });
});

test('topics outside the prefix are not sensor data', () => {
  assert.deepEqual(matchSensorTopic('cmd/dev1/relay', 'sensors'), { kind: 'outside' });
  assert.deepEqual(matchSensorTopic('sensorsX/a/b', 'sensors'), { kind: 'outside' });
});

test('wrong shapes under the prefix are bad', () => {
  for (const t of [
    'sensors/dev1',
    'sensors/dev1/temp/x',
    'sensors//temp',
    'sensors/dev 1/temp',
    'sensors/d/é',
  ]) {
    assert.equal(matchSensorTopic(t, 'sensors').kind, 'bad', t);
  }
});
