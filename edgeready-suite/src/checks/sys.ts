import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { metricSum } from '../agent/agent-http.js';
import type { RouteStats } from '../load/http-load.js';
import { quantile } from '../load/histogram.js';
import { check, fail, pass, passUnless, skip, type CheckContext, type Outcome } from './types.js';

/** Where the agent's unit file is: --unit-file, the installed unit, or the repository's. */
export function findUnitFile(
  given: string | undefined,
  edgeflowCli: string,
): { path: string; source: 'option' | 'installed' | 'repository' } | undefined {
  if (given !== undefined) return existsSync(given) ? { path: given, source: 'option' } : undefined;
  for (const p of [
    '/etc/systemd/system/edgeflow-agent.service',
    '/lib/systemd/system/edgeflow-agent.service',
    '/usr/lib/systemd/system/edgeflow-agent.service',
  ])
    if (existsSync(p)) return { path: p, source: 'installed' };
  // repository layout: agent/dist/src/cli.js -> systemd/edgeflow-agent.service
  const repo = join(dirname(edgeflowCli), '..', '..', '..', 'systemd', 'edgeflow-agent.service');
  return existsSync(repo) ? { path: repo, source: 'repository' } : undefined;
}

/** Whether the agent under test is the main process of a systemd unit, and which. */
function agentUnit(ctx: CheckContext): { runsAgent: boolean; why: string; fragment?: string } {
  const a = ctx.state.agent;
  if (a.own) return { runsAgent: false, why: 'the suite started the agent itself (not systemd)' };
  const u = a.unit;
  if (!u || 'error' in u)
    return { runsAgent: false, why: `no systemd unit state: ${u?.error ?? 'not read'}` };
  if (u.activeState !== 'active' || u.mainPid === 0)
    return { runsAgent: false, why: `unit ${u.unit} is ${u.activeState}, no main process` };
  if (a.pid === null)
    return {
      runsAgent: false,
      why: `cannot tell which process serves ${a.url} (run the suite as root)`,
    };
  return a.pid === u.mainPid
    ? {
        runsAgent: true,
        why: `${u.unit} main PID ${u.mainPid} serves ${a.url}`,
        fragment: u.fragmentPath,
      }
    : {
        runsAgent: false,
        why: `${a.url} is served by PID ${a.pid}, not by ${u.unit} (main PID ${u.mainPid})`,
      };
}

interface HardeningRaw {
  readonly unit: string | null;
  readonly source: 'option' | 'installed' | 'repository' | null;
  readonly agent: { runsAgent: boolean; why: string; fragment?: string };
  readonly exposure: number | null;
  readonly rating: string | null;
  readonly notSatisfied: string[];
  readonly error: string | null;
  readonly max: number;
}

/** ER-SYS-HARDENING: the exposure of the unit that really runs the agent. */
export const hardeningCheck = check<HardeningRaw>({
  collect: (ctx) => {
    const agent = agentUnit(ctx);
    // The unit systemd runs the agent from, when it does; else the file the options name.
    const found =
      agent.runsAgent && agent.fragment
        ? { path: agent.fragment, source: 'installed' as const }
        : findUnitFile(ctx.opts.unitFile, ctx.opts.edgeflowCli);
    const base = {
      unit: found?.path ?? null,
      source: found?.source ?? null,
      agent,
      max: ctx.opts.hardeningMax,
    };
    if (!found)
      return Promise.resolve({
        ...base,
        exposure: null,
        rating: null,
        notSatisfied: [],
        error: null,
      });
    const r = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', '--no-pager', found.path],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const m = r.error ? null : /Overall exposure level for \S+: ([\d.]+) (\S+)/.exec(r.stdout);
    return Promise.resolve({
      ...base,
      exposure: m ? Number(m[1]) : null,
      rating: m?.[2] ?? null,
      notSatisfied: r.error
        ? []
        : r.stdout
            .split('\n')
            .filter((l) => l.startsWith('✗'))
            .map((l) => l.replace(/\s+/g, ' ').trim()),
      error: r.error
        ? `systemd-analyze is not available: ${r.error.message}`
        : m
          ? null
          : `systemd-analyze gave no exposure level (exit ${String(r.status)}): ${r.stderr.trim()}`,
    });
  },
  judge: ({ raw }): Outcome => {
    if (raw.unit === null) return skip('no edgeflow-agent.service unit file found (--unit-file)');
    if (raw.error !== null)
      return raw.error.startsWith('systemd-analyze is not available')
        ? skip(raw.error, { ...raw })
        : fail(raw.error, { ...raw });
    const level = raw.exposure ?? Infinity;
    if (level > raw.max)
      return fail(`exposure ${level} ${raw.rating ?? ''} > ${raw.max} (${raw.unit})`, { ...raw });
    const standIn = !raw.agent.runsAgent
      ? `graded ${raw.source === 'repository' ? "the repository's" : 'the'} unit file ${raw.unit}, but the agent under test is not run by it: ${raw.agent.why}`
      : undefined;
    return passUnless(standIn, `exposure ${level} ${raw.rating ?? ''} <= ${raw.max}`, { ...raw });
  },
});

interface FsyncRaw {
  readonly dir: string;
  readonly samplesMs: number[];
  readonly walFsyncs: number | null;
  readonly walFsyncMeanMs: number | null;
}

/** ER-SYS-FSYNC: 4 KiB write + fdatasync samples in the agent's data directory. */
export const fsyncCheck = check<FsyncRaw>({
  collect: async (ctx) => {
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
    let walFsyncs: number | null = null;
    let walFsyncMeanMs: number | null = null;
    try {
      const m = await ctx.agent.metrics();
      const n = metricSum(m, 'edgeflow_wal_fsync_seconds_count');
      const sum = metricSum(m, 'edgeflow_wal_fsync_seconds_sum');
      walFsyncs = n ?? null;
      walFsyncMeanMs = n && sum !== undefined ? (sum / n) * 1000 : null;
    } catch {
      /* evidence only */
    }
    return { dir: ctx.opts.dataDir, samplesMs: samples, walFsyncs, walFsyncMeanMs };
  },
  judge: ({ raw, options }): Outcome => {
    const p99 = quantile(raw.samplesMs, 0.99);
    if (p99 === undefined) return fail('no fsync sample was taken');
    const ev = {
      dir: raw.dir,
      samples: raw.samplesMs.length,
      p50Ms: quantile(raw.samplesMs, 0.5),
      p99Ms: p99,
      maxMs: Math.max(...raw.samplesMs),
      limitMs: options.fsyncP99LimitMs,
      walFsyncs: raw.walFsyncs,
      walFsyncMeanMs: raw.walFsyncMeanMs,
    };
    return p99 <= options.fsyncP99LimitMs
      ? pass(`p99 write+fdatasync ${p99.toFixed(2)} ms <= ${options.fsyncP99LimitMs} ms`, ev)
      : fail(`p99 write+fdatasync ${p99.toFixed(2)} ms > ${options.fsyncP99LimitMs} ms`, ev);
  },
});

/** ER-SYS-HTTP */
export const httpCheck = check<{ routes: Record<string, RouteStats> }>({
  collect: (ctx) => Promise.resolve({ routes: ctx.state.http }),
  judge: ({ raw }): Outcome => {
    const routes = raw.routes;
    const total = Object.values(routes).reduce((a, r) => a + r.ok + r.fail, 0);
    const failed = Object.entries(routes).filter(([, r]) => r.fail > 0);
    const ev = { routes };
    if (total === 0) return fail('no HTTP scrape ran', ev);
    return failed.length === 0
      ? pass(`${total} scrapes, none failed`, ev)
      : fail(
          `failed scrapes: ${failed.map(([p, r]) => `${p} ${r.fail}x (${r.errors[0] ?? ''})`).join('; ')}`,
          ev,
        );
  },
});
