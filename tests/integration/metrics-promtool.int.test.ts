import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../helpers/agent-process.js';
import { findPromtool } from '../helpers/promtool.js';

function need(t: { skip: (m: string) => void }): string | undefined {
  const bin = findPromtool();
  if (bin !== undefined) return bin;
  const why = 'promtool not found: run scripts/install-deps.sh (scripts/fetch-promtool.sh)';
  if (process.env.CI === 'true') assert.fail(why);
  t.skip(why);
  return undefined;
}

/** `curl -sf URL | promtool check metrics`, exactly as an operator types it. */
function curlPromtool(promtool: string, url: string) {
  return spawnSync('sh', ['-c', 'curl -sf "$0" | "$1" check metrics', url, promtool], {
    encoding: 'utf8',
  });
}

test('curl /metrics | promtool check metrics exits 0, and the fleet series are there', async (t) => {
  const promtool = need(t);
  if (promtool === undefined) return;
  const dir = await mkdtemp(join(tmpdir(), 'ef-promtool-'));
  // An OTA root whose state says: 1.2.0 on trial after 1.1.0, one rollback in the history.
  const otaRoot = join(dir, 'ota');
  await mkdir(join(otaRoot, 'state'), { recursive: true });
  const at = new Date().toISOString();
  await writeFile(
    join(otaRoot, 'state', 'ota.json'),
    JSON.stringify({
      format: 1,
      current: '1.2.0',
      previous: '1.1.0',
      trial: {
        version: '1.2.0',
        from: '1.1.0',
        installedAt: at,
        starts: 1,
        firstStartAt: at,
        probationSec: 600,
        deadlineSec: 1800,
        lastStop: null,
      },
      install: null,
      rollback: null,
      history: [
        { at, event: 'installed', version: '1.1.1', from: '1.1.0' },
        { at, event: 'rolled-back', version: '1.1.0', from: '1.1.1', reason: 'health' },
        { at, event: 'installed', version: '1.2.0', from: '1.1.0' },
        { at, event: 'trial-started', version: '1.2.0' },
      ],
    }),
  );
  const config = join(dir, 'edgeflow.yaml');
  await writeFile(
    config,
    `ota:\n  root: ${otaRoot}\nattestation:\n  tcti: "device:${dir}/no-tpm"\n`,
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  t.after(() => agent.stop());
  // The simulator's four sensors report once polled: wait for their first readings (the agent
  // is another process: polling its API is the only way to see them arrive).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const body = (await (await agent.http('/v1/sensors?prefix=hal.')).json()) as { count: number };
    if (body.count >= 4) break;
    assert.ok(Date.now() < deadline, `HAL readings did not arrive: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${agent.httpPort}/metrics`;
  const check = curlPromtool(promtool, url);
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);

  const text = await (await agent.http('/metrics')).text();
  const has = (re: RegExp): void => assert.match(text, re);
  has(/^edgeflow_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+[^"]*",arch="\w+"\} 1$/m);
  has(/^edgeflow_hal_board_info\{board="sim",matched_by="forced"\} 1$/m);
  has(/^edgeflow_hal_devices_missing 0$/m);
  has(/^edgeflow_hal_sensor_up\{sensor="env",type="bme280"\} 1$/m);
  has(/^edgeflow_attestation_state\{state="unavailable"\} 1$/m);
  has(/^edgeflow_attestation_state\{state="ready"\} 0$/m);
  has(/^edgeflow_ota_state_readable 1$/m);
  has(/^edgeflow_ota_release_info\{version="1\.2\.0",previous="1\.1\.0"\} 1$/m);
  has(/^edgeflow_ota_trial 1$/m);
  has(/^edgeflow_ota_history_events\{event="rolled-back"\} 1$/m);
  has(/^edgeflow_ota_history_events\{event="committed"\} 0$/m);
  assert.doesNotMatch(text, /^nodejs_active_\w+_total/m);
});

test('promtool fails on the exposition this test guards against (the check can fail)', (t) => {
  const promtool = need(t);
  if (promtool === undefined) return;
  // What prom-client's defaults printed before: a gauge named like a counter.
  const bad =
    '# HELP nodejs_active_handles_total x\n# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n';
  const r = spawnSync(promtool, ['check', 'metrics'], { input: bad, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /non-counter metrics should not have "_total" suffix/);
});
