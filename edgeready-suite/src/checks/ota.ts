import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult } from '../agent/edgeflow-cli.js';
import type { CheckContext } from './types.js';
import { check, fail, passUnless, type Outcome } from './types.js';

interface Status {
  current: string | null;
  trial: { version: string } | null;
  history: { event: string; version: string; reason?: string }[];
}

interface DrillRaw {
  readonly mode: 'scratch';
  readonly board: string;
  readonly steps: Record<string, unknown>[];
  readonly rollback: { action: string; to: string | null } | null;
  readonly rollbackSec: number | null;
  readonly end: { current: string | null; trial: string | null } | null;
  readonly history: Status['history'];
  readonly error: string | null;
}

/**
 * The drill with `edgeflow ota` on a scratch root (no systemd needed): the systemd hooks the
 * agent unit runs (`prestart`, `poststop`) are called in the order systemd would call them when
 * a trial release crashes, so rollback goes through the real state machine, but neither the
 * agent under test nor systemd takes part: a stand-in for the real drill.
 */
async function scratchDrill(ctx: CheckContext): Promise<DrillRaw> {
  const dir = join(ctx.paths.stateDir, `ota-drill-${ctx.phase}-${ctx.state.rounds}`);
  await rm(dir, { recursive: true, force: true });
  const root = join(dir, 'root');
  const board = (await ctx.board()).profile.id;
  const where = [
    '--root',
    root,
    '--report-file',
    join(root, 'trial.json'),
    '--config-dir',
    join(root, 'etc'),
    '--cache-dir',
    join(root, 'cache'),
  ];
  const steps: Record<string, unknown>[] = [];
  const ota = async (args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => {
    const r = await ctx.ota(args, env ? { env } : {});
    steps.push({
      cmd: `edgeflow ota ${args.join(' ')}`,
      code: r.code,
      out: r.stdout.trim().slice(0, 500),
      ms: r.ms,
    });
    if (r.code !== 0)
      throw new Error(
        `edgeflow ota ${args[0] ?? ''} exited ${String(r.code)}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`,
      );
    return r;
  };
  const bundle = async (version: string, note: string): Promise<string> => {
    const src = join(dir, `src-${version}`);
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'VERSION'), `${version}\n${note}\n`);
    const out = join(dir, `edgeflow-${version}.tar.gz`);
    await ota([
      'build',
      src,
      '--out',
      out,
      '--name',
      'edgeready-drill',
      '--version',
      version,
      '--board',
      board,
      '--key',
      join(root, 'keys', 'drill.key'),
    ]);
    return out;
  };
  const status = async (): Promise<Status> =>
    JSON.parse((await ota(['status', ...where, '--json'])).stdout) as Status;
  const install = (b: string, extra: string[] = []): Promise<CliResult> =>
    ota([
      'install',
      b,
      ...where,
      '--board',
      board,
      '--device-id',
      'edgeready-drill',
      '--no-restart',
      ...extra,
    ]);
  try {
    await mkdir(root, { recursive: true });
    await ota(['keygen', '--out', join(root, 'keys'), '--name', 'drill']);
    await install(await bundle('1.0.0', 'base'), ['--commit']);
    const bad = await bundle('1.1.0', 'this release fails its trial');
    await install(bad);
    const t0 = Date.now();
    await ota(['prestart', ...where, '--json']);
    // The trial process dies; systemd runs ExecStopPost, restarts, ExecStartPre rolls back.
    await ota(['poststop', ...where, '--json'], {
      SERVICE_RESULT: 'exit-code',
      EXIT_CODE: 'exited',
      EXIT_STATUS: '1',
    });
    const rb = JSON.parse((await ota(['prestart', ...where, '--json'])).stdout) as {
      action: string;
      to?: string;
    };
    const rollbackSec = (Date.now() - t0) / 1000;
    await install(await bundle('1.2.0', 'good release'));
    await ota(['prestart', ...where, '--json']);
    await ota(['commit', ...where, '--json']);
    const end = await status();
    return {
      mode: 'scratch',
      board,
      steps,
      rollback: { action: rb.action, to: rb.to ?? null },
      rollbackSec,
      end: { current: end.current, trial: end.trial?.version ?? null },
      history: end.history,
      error: null,
    };
  } catch (e) {
    return {
      mode: 'scratch',
      board,
      steps,
      rollback: null,
      rollbackSec: null,
      end: null,
      history: [],
      error: (e as Error).message,
    };
  }
}

/** ER-OTA-DRILL: a failing release rolls back within the limit, then a good one commits. */
export const otaDrillCheck = check<DrillRaw>({
  collect: scratchDrill,
  judge: ({ raw, options }): Outcome => {
    const ev = { ...raw, limitSec: options.otaRollbackLimitSec };
    if (raw.error !== null) return fail(`OTA drill failed: ${raw.error}`, ev);
    const rb = raw.rollback;
    if (rb?.action !== 'rolled-back' || rb.to !== '1.0.0')
      return fail(
        `the failing 1.1.0 was not rolled back (prestart: ${rb?.action ?? '?'} to ${rb?.to ?? '?'})`,
        ev,
      );
    const sec = raw.rollbackSec ?? Infinity;
    if (sec > options.otaRollbackLimitSec)
      return fail(`rollback took ${sec.toFixed(1)} s > ${options.otaRollbackLimitSec} s`, ev);
    if (raw.end?.current !== '1.2.0' || raw.end.trial !== null)
      return fail(
        `the good 1.2.0 did not commit (current ${raw.end?.current ?? '?'}, trial ${raw.end?.trial ?? 'none'})`,
        ev,
      );
    return passUnless(
      raw.mode === 'scratch'
        ? 'drill on a scratch root: no systemd restart, the agent under test was not updated'
        : undefined,
      `1.1.0 rolled back to 1.0.0 in ${sec.toFixed(1)} s, then 1.2.0 committed`,
      ev,
    );
  },
});
