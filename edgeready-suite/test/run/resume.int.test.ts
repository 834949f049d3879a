import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSwtpm, tpmTestsMissing } from 'node-tpm2/testing';
import type { Report } from '../../src/report/build.js';
import type { RunState } from '../../src/run/types.js';
import { artifacts, edgeready } from './helpers.js';

const progressAt = (ms: number) => (l: Record<string, unknown>) =>
  l.type === 'progress' &&
  l.phase === 'load' &&
  typeof l.elapsedMs === 'number' &&
  l.elapsedMs >= ms;

test(
  'a run SIGKILLed midway resumes; Ctrl-C gives a partial report; resume finishes with both gaps recorded',
  { timeout: 600_000 },
  async (t) => {
    const missing = tpmTestsMissing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const tpm = await startSwtpm();
    t.after(() => tpm.stop());
    const out = join(artifacts, 'resume-run');
    await rm(out, { recursive: true, force: true });
    const checkpoint = async (): Promise<RunState> =>
      JSON.parse(await readFile(join(out, 'state', 'checkpoint.json'), 'utf8')) as RunState;
    t.after(async () => {
      // Whatever happened, leave no agent behind.
      const pid = (await checkpoint().catch(() => undefined))?.agent.own?.pid;
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });

    // 1. Start, and SIGKILL the suite 8 s into the load (no chance to clean up).
    const first = edgeready([
      'run',
      '--mode',
      'stress',
      '--duration',
      '30s',
      '--interval',
      '10s',
      '--max-gap',
      '5',
      '--out',
      out,
      '--board',
      'sim',
      '--tcti',
      tpm.tcti,
      '--json-progress',
    ]);
    await first.waitFor(progressAt(6000));
    first.child.kill('SIGKILL');
    await first.exited;
    const cut = await checkpoint();
    assert.equal(cut.status, 'running');
    assert.ok((cut.segments[0]?.acked ?? 0) > 0);

    // 2. Resume; the agent kept running and is reused. Ctrl-C after a while: partial report.
    const second = edgeready(['resume', out, '--json-progress']);
    await second.waitFor(progressAt(6000));
    second.child.kill('SIGINT');
    assert.equal(await second.exited, 1, second.stderr());
    const partial = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    assert.equal(partial.status, 'partial');
    assert.notEqual(partial.verdict, 'pass');
    assert.equal(partial.checks.find((c) => c.id === 'ER-OTA-DRILL')?.status, 'not-run');
    assert.equal((await checkpoint()).status, 'interrupted');

    // 3. Resume again and finish.
    const third = edgeready(['resume', out, '--json-progress']);
    const code = await third.exited;
    assert.ok(code === 3 || code === 1, third.stderr());
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    for (const c of report.checks)
      if (c.status === 'fail') t.diagnostic(`FAILED ${c.id}: ${c.detail}`);
    assert.equal(report.status, 'complete', `the last resume did not finish: ${third.stderr()}`);
    assert.deepEqual(
      report.gaps.map((g) => g.cause),
      ['crash', 'stopped'],
    );
    assert.ok(report.gaps.every((g) => g.seconds > 0));
    // The crash cut segment 0 after its first TPM anchor: the active time after it is not
    // proven, does not count, and was run again.
    assert.match(report.gaps[0]?.detail ?? '', /after the last TPM anchor do not count/);
    assert.equal(report.segments.length, 3);
    assert.ok(report.activeSeconds >= 24);
    assert.equal(
      report.agent.starts,
      2,
      'reused after the crash, restarted after Ctrl-C stopped it',
    );
    const status = (id: string): string | undefined =>
      report.checks.find((c) => c.id === id)?.status;
    assert.equal(status('ER-MQTT-QOS2'), 'pass');
    assert.equal(status('ER-SYS-CONTINUITY'), 'pass');
    const qos = report.checks.find((c) => c.id === 'ER-MQTT-QOS2')?.executions.at(-1)?.evidence as {
      segments: { state: string }[];
    };
    assert.deepEqual(
      qos.segments.map((s) => s.state),
      ['cut', 'clean', 'clean'],
    );
    const series = (await readFile(join(out, 'timeseries.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seg: number });
    assert.deepEqual([...new Set(series.map((s) => s.seg))], [0, 1, 2]);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /crash/);
    assert.match(html, /stroke-dasharray/);

    const v = edgeready([
      'verify-report',
      join(out, `edgeready-${report.erId}.tar`),
      '--enrolment',
      join(out, 'state', 'enrolment.json'),
    ]);
    assert.equal(await v.exited, 0, v.stderr());
    await assert.rejects(
      (async () => {
        const again = edgeready(['resume', out]);
        if ((await again.exited) !== 0) throw new Error(again.stderr());
      })(),
      /EDGEFLOW_ER_RUN_FINISHED/,
    );
  },
);
