import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult } from '../agent/edgeflow-cli.js';
import type { CheckContext } from '../checks/types.js';
import type { OtaStatus, ScratchDrillRaw } from './drill-types.js';

/**
 * The drill with `edgeflow ota` on a scratch root (no systemd needed): the systemd hooks the
 * agent unit runs (`prestart`, `poststop`) are called in the order systemd would call them when
 * a trial release crashes, so rollback goes through the real state machine, but neither the
 * agent under test nor systemd takes part: a stand-in for the real drill.
 */
export async function scratchDrill(ctx: CheckContext, standIn: string): Promise<ScratchDrillRaw> {
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
  const status = async (): Promise<OtaStatus> =>
    JSON.parse((await ota(['status', ...where, '--json'])).stdout) as OtaStatus;
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
      standIn,
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
      standIn,
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
