import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connectViolation,
  filterViolation,
  publishViolation,
} from '../../src/broker/protocol-checks.js';

test('[MQTT-3.1.2-14] [MQTT-3.1.2-22] [MQTT-3.1.3-10] CONNECT checks name the clause', () => {
  assert.equal(connectViolation({}), undefined);
  assert.equal(connectViolation({ username: 'u', password: Buffer.from('p') }), undefined);
  assert.match(connectViolation({ password: Buffer.from('p') }) ?? '', /MQTT-3\.1\.2-22/);
  assert.equal(connectViolation({ will: { topic: 'a/b', qos: 2 } }), undefined);
  assert.match(connectViolation({ will: { topic: 'a/b', qos: 3 } }) ?? '', /MQTT-3\.1\.2-14/);
  for (const topic of ['', 'a/+', 'a/#'])
    assert.match(connectViolation({ will: { topic, qos: 0 } }) ?? '', /MQTT-3\.1\.3-10/, topic);
  assert.match(connectViolation({ will: { topic: 'a\0b', qos: 0 } }) ?? '', /MQTT-4\.7\.3-2/);
});

test('[MQTT-2.3.1-1] [MQTT-4.7.3-2] PUBLISH and filter checks name the clause', () => {
  assert.equal(publishViolation({ topic: 'a', qos: 0 }), undefined);
  assert.equal(publishViolation({ topic: 'a', qos: 1, messageId: 1 }), undefined);
  assert.match(publishViolation({ topic: 'a', qos: 1, messageId: 0 }) ?? '', /MQTT-2\.3\.1-1/);
  assert.match(publishViolation({ topic: 'a', qos: 2 }) ?? '', /MQTT-2\.3\.1-1/);
  assert.match(publishViolation({ topic: 'a\0', qos: 0 }) ?? '', /MQTT-4\.7\.3-2/);
  assert.equal(filterViolation('a/#'), undefined);
  assert.match(filterViolation('a/\0') ?? '', /MQTT-4\.7\.3-2/);
});
