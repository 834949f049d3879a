import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createMetrics } from '../../src/metrics/metrics.js';

function setup() {
  const cache = new SensorCache({ shards: 8 });
  const metrics = createMetrics({
    cacheSize: () => cache.size,
    mqttClients: () => 0,
    defaultMetrics: false,
  });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const dead: { topic: string; reason: string; code: string }[] = [];
  let now = 1_000_000;
  const p = new IngestPipeline(
    { sensorPrefix: 'sensors', maxPayloadBytes: 1024, rejectLogWindowMs: 60_000 },
    {
      cache,
      metrics,
      log,
      now: () => now,
      deadLetter: (topic, _payload, reason, _detail, code) =>
        void dead.push({ topic, reason, code }),
    },
  );
  return { p, cache, metrics, lines, dead, advance: (ms: number) => (now += ms) };
}

const enc = (s: string) => new TextEncoder().encode(s);

test('a good message is stored and counted', async () => {
  const { p, cache, metrics } = setup();
  const out = p.handle('sensors/dev1/temp', enc('21.5'), 'mqtt:c1');
  assert.equal(out.kind, 'stored');
  assert.equal(cache.get('dev1/temp')?.value, 21.5);
  assert.equal(cache.get('dev1/temp')?.source, 'mqtt:c1');
  const text = await metrics.registry.metrics();
  assert.match(text, /edgeflow_ingest_messages_total\{source="mqtt"\} 1/);
});

test('bad messages are counted, dead-lettered and logged once per window', async () => {
  const { p, metrics, lines, dead, advance } = setup();
  for (let i = 0; i < 5; i++) p.handle('sensors/dev1/temp', enc('garbage'), 'mqtt:c1');
  p.handle('sensors/dev1', enc('1'), 'mqtt:c1');
  assert.equal(lines.length, 2, 'one line per reason per window');
  advance(61_000);
  p.handle('sensors/dev1/temp', enc('garbage'), 'mqtt:c1');
  assert.equal(lines.length, 3);
  assert.equal(JSON.parse(lines[2] as string).suppressedSinceLast, 4);
  assert.equal(dead.length, 7);
  assert.deepEqual([...new Set(dead.map((d) => `${d.reason} ${d.code}`))].sort(), [
    'bad_shape EDGEFLOW_INGEST_BAD_PAYLOAD',
    'bad_topic EDGEFLOW_INGEST_BAD_TOPIC',
  ]);
  assert.equal(JSON.parse(lines[0] as string).code, 'EDGEFLOW_INGEST_BAD_PAYLOAD');
  p.handle('sensors/dev1/temp', enc('x'.repeat(2000)), 'mqtt:c1');
  assert.deepEqual(dead.at(-1), {
    topic: 'sensors/dev1/temp',
    reason: 'too_large',
    code: 'EDGEFLOW_INGEST_PAYLOAD_TOO_LARGE',
  });
  const text = await metrics.registry.metrics();
  assert.match(text, /edgeflow_ingest_rejected_total\{reason="bad_shape"\} 6/);
  assert.match(text, /edgeflow_ingest_rejected_total\{reason="bad_topic"\} 1/);
});

test('topics outside the sensor namespace pass through untouched', () => {
  const { p, cache, dead } = setup();
  assert.deepEqual(p.handle('cmd/dev1/relay', enc('on'), 'mqtt:c1'), { kind: 'ignored' });
  assert.equal(cache.size, 0);
  assert.equal(dead.length, 0);
});
