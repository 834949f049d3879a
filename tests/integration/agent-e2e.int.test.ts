import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startAgent } from '../helpers/agent-process.js';

async function publishAll(port: number, messages: [string, string][]): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'e2e-pub',
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    for (const [topic, payload] of messages) await client.publishAsync(topic, payload, { qos: 2 });
  } finally {
    await client.endAsync();
  }
}

test('QoS 2 in -> cache -> HTTP and metrics out; SIGTERM exits 0 and the cache survives a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'ef-e2e-'));
  const agent = await startAgent({ dataDir });
  try {
    const listening = agent.logs.find((l) => l.event === 'agent.listening');
    assert.equal(listening?.mqtt, `mqtt://127.0.0.1:${agent.mqttPort}`);
    assert.equal(listening?.http, `http://127.0.0.1:${agent.httpPort}`);

    await publishAll(agent.mqttPort, [
      ['sensors/dev1/temp', '{"v":21.5,"u":"Cel","t":1732700000}'],
      ['sensors/dev1/temp', '{"v":22.25,"u":"Cel","t":1732700001}'],
      // older than the cached value: counted in seq, does not replace it
      ['sensors/dev1/temp', '{"v":-40,"u":"Cel","t":1732699999}'],
      ['sensors/dev2/door', 'true'],
      ['sensors/dev1/temp', 'not a number'],
      ['sensors/too/many/levels', '1'],
    ]);

    const one = await agent.http('/v1/sensors/dev1/temp');
    assert.equal(one.status, 200);
    const reading = (await one.json()) as Record<string, unknown>;
    assert.equal(reading.key, 'dev1/temp');
    assert.equal(reading.value, 22.25);
    assert.equal(reading.unit, 'Cel');
    assert.equal(reading.ts, 1_732_700_001_000);
    assert.equal(reading.seq, 3, 'three good readings applied, the bad one not counted');

    const all = (await (await agent.http('/v1/sensors?prefix=dev2/')).json()) as { count: number };
    assert.equal(all.count, 1);
    const missing = await agent.http('/v1/sensors/dev9/x');
    assert.equal(missing.status, 404);
    assert.equal(
      ((await missing.json()) as { error: { code: string } }).error.code,
      'EDGEFLOW_SENSOR_NOT_FOUND',
    );

    // Garbage on the MQTT port closes that connection only.
    await new Promise<void>((resolve) => {
      const s = netConnect(agent.mqttPort, '127.0.0.1', () =>
        s.end(Buffer.from([0xff, 0x00, 0x13, 0x37])),
      );
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });

    const metrics = await (await agent.http('/metrics')).text();
    assert.match(metrics, /^edgeflow_ingest_messages_total\{source="mqtt"\} 4$/m);
    assert.match(metrics, /^edgeflow_ingest_rejected_total\{reason="bad_shape"\} 1$/m);
    assert.match(metrics, /^edgeflow_ingest_rejected_total\{reason="bad_topic"\} 1$/m);
    // two MQTT sensors plus the simulated board's demo sensors (hal.env/temperature, ...)
    const entries = Number(/^edgeflow_cache_entries (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(entries > 2, `cache entries ${entries}`);
    const sim = await agent.http('/v1/sensors/hal.env/temperature');
    assert.equal(sim.status, 200);
    const simReading = (await sim.json()) as { unit: string; value: number; source: string };
    assert.equal(simReading.unit, 'Cel');
    assert.equal(typeof simReading.value, 'number');
    assert.match(metrics, /^process_resident_memory_bytes \d+/m);
    assert.equal((await agent.http('/readyz')).status, 200);
    assert.equal((await agent.http('/healthz')).status, 200);
  } finally {
    const exit = await agent.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  }
  assert.ok(agent.logs.some((l) => l.event === 'agent.stopped'));
  const snapshot = JSON.parse(await readFile(join(dataDir, 'cache', 'snapshot.json'), 'utf8')) as {
    readings: { key: string }[];
  };
  assert.deepEqual(
    snapshot.readings
      .map((r) => r.key)
      .filter((k) => k.startsWith('dev'))
      .sort(),
    ['dev1/temp', 'dev2/door'],
  );

  const again = await startAgent({ dataDir });
  try {
    const r = (await (await again.http('/v1/sensors/dev1/temp')).json()) as { seq: number };
    assert.equal(r.seq, 3, 'seq restored from the snapshot');
    // A bare number is stamped with the receive time, newer than anything above.
    await publishAll(again.mqttPort, [['sensors/dev1/temp', '23']]);
    const r2 = (await (await again.http('/v1/sensors/dev1/temp')).json()) as {
      seq: number;
      value: number;
    };
    assert.deepEqual([r2.seq, r2.value], [4, 23]);
  } finally {
    assert.equal((await again.stop('SIGINT')).code, 0);
  }
});

test('a bad configuration file is refused at start with exit code 78 and every problem listed', async () => {
  const { spawnSync } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const { cliPath } = await import('../helpers/agent-process.js');
  const dir = await mkdtemp(join(tmpdir(), 'ef-cfg-'));
  const cfg = join(dir, 'edgeflow.yaml');
  await writeFile(cfg, 'mqtt:\n  listen:\n    port: 99999\nhttp:\n  lisen: {}\n');
  const res = spawnSync(process.execPath, [cliPath, 'agent', '--config', cfg], {
    encoding: 'utf8',
    env: {},
  });
  assert.equal(res.status, 78);
  assert.match(res.stderr, /mqtt\.listen\.port: must be an integer 1-65535/);
  assert.match(res.stderr, /http\.lisen: unknown key/);
});

test('a port already in use fails the start with exit code 1 and a clear message', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const dataDir = await mkdtemp(join(tmpdir(), 'ef-e2e-'));
  try {
    await assert.rejects(
      startAgent({ dataDir, env: { EDGEFLOW_MQTT_PORT: String(port) } }),
      /exited with 1/,
    );
  } finally {
    blocker.close();
  }
});
