import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { metricSum } from '../agent/agent-http.js';
import { quantile } from '../load/histogram.js';
import { fail, pass, skip, type CheckImpl } from './types.js';

/** Where the agent's unit file is: --unit-file, the installed unit, or the repository's. */
export function findUnitFile(given: string | undefined, edgeflowCli: string): string | undefined {
  const candidates = [
    given,
    '/etc/systemd/system/edgeflow-agent.service',
    '/lib/systemd/system/edgeflow-agent.service',
    '/usr/lib/systemd/system/edgeflow-agent.service',
    // repository layout: agent/dist/src/cli.js -> systemd/edgeflow-agent.service
    join(dirname(edgeflowCli), '..', '..', '..', 'systemd', 'edgeflow-agent.service'),
  ];
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

/** ER-SYS-HARDENING */
export const hardeningCheck: CheckImpl = (ctx) => {
  const unit = findUnitFile(ctx.opts.unitFile, ctx.opts.edgeflowCli);
  if (!unit)
    return Promise.resolve(skip('no edgeflow-agent.service unit file found (--unit-file)'));
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) return Promise.resolve(skip(`systemd-analyze is not available: ${r.error.message}`));
  const m = /Overall exposure level for \S+: ([\d.]+) (\S+)/.exec(r.stdout);
  const notSatisfied = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('✗'))
    .map((l) => l.replace(/\s+/g, ' ').trim());
  const ev = {
    unit,
    exposure: m ? Number(m[1]) : null,
    rating: m?.[2] ?? null,
    notSatisfied,
    max: ctx.opts.hardeningMax,
  };
  if (!m)
    return Promise.resolve(
      fail(
        `systemd-analyze gave no exposure level (exit ${String(r.status)}): ${r.stderr.trim()}`,
        ev,
      ),
    );
  const level = Number(m[1]);
  return Promise.resolve(
    level <= ctx.opts.hardeningMax
      ? pass(`exposure ${level} ${m[2]} <= ${ctx.opts.hardeningMax}`, ev)
      : fail(`exposure ${level} ${m[2]} > ${ctx.opts.hardeningMax}`, ev),
  );
};

/** ER-SYS-FSYNC: 4 KiB write + fdatasync samples in the agent's data directory. */
export const fsyncCheck: CheckImpl = async (ctx) => {
  const file = join(ctx.opts.dataDir, `.edgeready-fsync-${process.pid}`);
  const samples: number[] = [];
  const buf = Buffer.alloc(4096, 0xa5);
  const fh = await open(file, 'w');
  try {
    for (let i = 0; i < 64; i++) {
      const t0 = performance.now();
      await fh.write(buf, 0, buf.length, (i % 16) * 4096);
      await fh.datasync();
      samples.push(performance.now() - t0);
    }
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
  let wal: Record<string, number | null> = {};
  try {
    const m = await ctx.agent.metrics();
    const count = metricSum(m, 'edgeflow_wal_fsync_seconds_count');
    const sum = metricSum(m, 'edgeflow_wal_fsync_seconds_sum');
    wal = {
      walFsyncs: count ?? null,
      walFsyncMeanMs: count && sum !== undefined ? (sum / count) * 1000 : null,
    };
  } catch {
    /* evidence only */
  }
  const p99 = quantile(samples, 0.99) ?? 0;
  const ev = {
    dir: ctx.opts.dataDir,
    samples: samples.length,
    p50Ms: quantile(samples, 0.5),
    p99Ms: p99,
    maxMs: Math.max(...samples),
    limitMs: ctx.opts.fsyncP99LimitMs,
    ...wal,
  };
  return p99 <= ctx.opts.fsyncP99LimitMs
    ? pass(`p99 write+fdatasync ${p99.toFixed(2)} ms <= ${ctx.opts.fsyncP99LimitMs} ms`, ev)
    : fail(`p99 write+fdatasync ${p99.toFixed(2)} ms > ${ctx.opts.fsyncP99LimitMs} ms`, ev);
};

/** ER-SYS-HTTP */
export const httpCheck: CheckImpl = (ctx) => {
  const routes = ctx.state.http;
  const total = Object.values(routes).reduce((a, r) => a + r.ok + r.fail, 0);
  const failed = Object.entries(routes).filter(([, r]) => r.fail > 0);
  const ev = { routes };
  if (total === 0) return Promise.resolve(fail('no HTTP scrape ran', ev));
  return Promise.resolve(
    failed.length === 0
      ? pass(`${total} scrapes, none failed`, ev)
      : fail(
          `failed scrapes: ${failed.map(([p, r]) => `${p} ${r.fail}x (${r.errors[0] ?? ''})`).join('; ')}`,
          ev,
        ),
  );
};

/** ER-SYS-AGENT-LOG: the run's agent log (written before the end checks). */
export const agentLogCheck: CheckImpl = async (ctx) => {
  let text: string;
  try {
    text = await readFile(ctx.paths.agentLog, 'utf8');
  } catch (e) {
    return fail(`no agent log for the run: ${(e as Error).message}`);
  }
  const lines = text.split('\n').filter(Boolean);
  const errors: string[] = [];
  let starts = 0;
  let nonJson = 0;
  for (const l of lines) {
    let rec: { level?: unknown; event?: unknown; msg?: unknown };
    try {
      rec = JSON.parse(l) as typeof rec;
    } catch {
      // journalctl -o cat and the suite's own markers are plain text
      nonJson++;
      if (/\b(error|fatal)\b/i.test(l) && !l.startsWith('# edgeready'))
        errors.push(l.slice(0, 300));
      continue;
    }
    if (rec.event === 'agent.listening') starts++;
    const lvl = rec.level;
    if ((typeof lvl === 'number' && lvl >= 50) || lvl === 'error' || lvl === 'fatal')
      errors.push(l.slice(0, 300));
  }
  const expectedStarts = ctx.state.agent.own ? ctx.state.agent.starts : undefined;
  const ev = {
    lines: lines.length,
    nonJson,
    starts,
    expectedStarts: expectedStarts ?? null,
    errors: errors.slice(0, 20),
    errorCount: errors.length,
  };
  if (errors.length > 0) return fail(`${errors.length} error entr(ies): ${errors[0]}`, ev);
  if (expectedStarts !== undefined && starts !== expectedStarts)
    return fail(
      `the agent started ${starts} time(s), the suite started it ${expectedStarts} time(s)`,
      ev,
    );
  return pass(`${lines.length} log lines, no error, ${starts} start(s)`, ev);
};

/** ER-SYS-CONTINUITY */
export const continuityCheck: CheckImpl = (ctx) => {
  const gapSec = ctx.state.gaps.reduce((a, g) => a + g.seconds, 0);
  const limitSec = (ctx.opts.durationMs / 1000) * ctx.opts.maxGapRatio;
  const ev = {
    gaps: ctx.state.gaps,
    totalGapSec: gapSec,
    limitSec,
    activeSec: ctx.state.activeMs / 1000,
  };
  if (ctx.state.gaps.length === 0) return Promise.resolve(pass('no interruption', ev));
  const what = ctx.state.gaps.map((g) => `${g.cause} ${g.seconds.toFixed(0)} s`).join(', ');
  return Promise.resolve(
    gapSec <= limitSec
      ? pass(
          `${ctx.state.gaps.length} gap(s) recorded (${what}), ${gapSec.toFixed(0)} s <= ${limitSec.toFixed(0)} s`,
          ev,
        )
      : fail(
          `${ctx.state.gaps.length} gap(s) (${what}) total ${gapSec.toFixed(0)} s > ${limitSec.toFixed(0)} s`,
          ev,
        ),
  );
};
