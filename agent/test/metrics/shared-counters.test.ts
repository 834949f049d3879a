import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics/metrics.js';
import { rowCounters, SharedCounters } from '../../src/metrics/shared-counters.js';

test("workers' rows are summed into the same series as the main thread's own counts", async () => {
  const shared = new SharedCounters(2);
  const metrics = createMetrics({
    cacheSize: () => 0,
    mqttClients: () => 0,
    defaultMetrics: false,
    shared: () => shared,
  });
  const w0 = rowCounters(shared.row(0));
  const w1 = rowCounters(shared.row(1));
  w0.ingestMessages.labels('mqtt').inc();
  w1.ingestMessages.labels('mqtt').inc(2);
  w1.ingestRejected.inc({ reason: 'bad_json' });
  metrics.ingestMessages.inc({ source: 'mqtt' }, 10);
  const text = await metrics.registry.metrics();
  assert.match(text, /^edgeflow_ingest_messages_total\{source="mqtt"\} 13$/m);
  assert.match(text, /^edgeflow_ingest_rejected_total\{reason="bad_json"\} 1$/m);
  assert.match(text, /^edgeflow_ingest_worker_messages_total\{worker="0"\} 1$/m);
  assert.match(text, /^edgeflow_ingest_worker_messages_total\{worker="1"\} 2$/m);
  assert.match(text, /^edgeflow_ingest_workers 2$/m);
  // A second scrape adds only what is new.
  w0.ingestMessages.labels('mqtt').inc();
  assert.match(
    await metrics.registry.metrics(),
    /^edgeflow_ingest_messages_total\{source="mqtt"\} 14$/m,
  );
  assert.throws(() => shared.row(2), /no counter row 2/);
});
