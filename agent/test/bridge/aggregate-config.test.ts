import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeConfigSchema } from '../../src/bridge/config.js';

const base = { url: 'mqtt://127.0.0.1:1883', clientId: 'gw-bridge' };
const messages = (input: unknown): string[] => {
  const r = bridgeConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('an aggregate rule gets every statistic and a default topic', () => {
  const c = bridgeConfigSchema.parse({
    ...base,
    topics: [],
    aggregate: [{ match: 'sensors/#', windowSec: 60 }],
  });
  assert.deepEqual(c.aggregate, [
    {
      match: 'sensors/#',
      windowSec: 60,
      stats: ['count', 'min', 'max', 'mean', 'last'],
      topic: 'agg/{windowSec}s/{key}',
    },
  ]);
  assert.deepEqual(bridgeConfigSchema.parse(base).aggregate, []);
});

test('bad rules are refused with the path and what to do', () => {
  const bad = (rule: Record<string, unknown>) =>
    messages({ ...base, aggregate: [{ match: 'sensors/#', windowSec: 60, ...rule }] });
  assert.match(bad({ windowSec: 7 }).join(), /aggregate\.0\.windowSec: must divide 86400/);
  assert.match(bad({ windowSec: 0.5 }).join(), /windowSec: must be a whole number/);
  assert.match(bad({ match: 'sensors/#/x' }).join(), /aggregate\.0\.match: must be an MQTT/);
  assert.match(bad({ stats: ['median'] }).join(), /stats\.0: must be one of count, min/);
  assert.match(bad({ stats: ['min', 'min'] }).join(), /lists a statistic twice/);
  assert.match(bad({ topic: 'x/{host}' }).join(), /unknown placeholder \{host\}/);
  assert.match(bad({ every: 60 }).join(), /aggregate\.0: Unrecognized key/i);
  assert.match(messages({ ...base, topics: [] }).join(), /nothing to forward/);
});
