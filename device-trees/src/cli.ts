/**
 * `edgeflow dt list | install <overlay> | remove <overlay> | status | rollback`.
 * The agent's `edgeflow` binary calls runCli with what follows `dt`.
 */
import { parseCommandLine, usageFailure, type CliIo } from '@edgeflow/core';
import {
  createCliLogger,
  LOG_CLI_HELP,
  LOG_CLI_OPTIONS,
  logChoice,
  LogOptionError,
} from '@edgeflow/core/log';
import { BOARDS, BOARD_IDS, type BoardId } from './boards.js';
import { OVERLAYS } from './catalog.js';
import { resolveBoard } from './detect.js';
import { unifiedDiff } from './diff.js';
import { DtError } from './errors.js';
import { nodeFsOps } from './fs-ops.js';
import {
  applyPlan,
  installedOverlays,
  planInstall,
  planRemove,
  stateDirOf,
  status,
  type InstallerDeps,
  type Target,
} from './installer.js';
import { packageOverlayLoader } from './overlay-source.js';
import { planRollback, rollback, type FileChange } from './transaction.js';
import { BootFiles } from './boot-files.js';

export type { CliIo };

const usageError = (message: string, cause?: unknown): DtError =>
  new DtError('EDGEFLOW_DT_USAGE', message, cause === undefined ? {} : { cause });

const USAGE = `usage: edgeflow dt <command> [options]

commands:
  list                 overlays available for the board (and which are installed)
  install <overlay>    copy the overlay and enable it in the boot configuration
  remove <overlay>     disable the overlay and delete its file
  status               what is installed, and how many backups rollback can restore
  rollback             undo the last install/remove, byte for byte

options:
  --board auto|<id>    board (default auto: /proc/device-tree/compatible, DMI); ids: ${BOARD_IDS.join(', ')}
  --boot-root DIR      root of the system to change (default /): boot files are under DIR/boot
  --dry-run            print the unified diff of every file that would change, change nothing
  --force              take --board even when the boot root identifies as another board
${LOG_CLI_HELP}
  -h, --help           this help

Every change (install, remove, rollback) is also logged on stderr (event dt.installed, ...).

<overlay> is a name from \`list\` or a path to a .dtbo built for this board.
`;

/** The parser's options (exported so a test can compare them with the help text). */
export const DT_OPTIONS = {
  board: { type: 'string', default: 'auto' },
  'boot-root': { type: 'string', default: '/' },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  ...LOG_CLI_OPTIONS,
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const COMMANDS = ['list', 'install', 'remove', 'status', 'rollback'];

const isText = (rel: string) => !rel.endsWith('.dtbo');

/** Render changes as a unified diff (binary files get git's one-line summary). */
export function renderDiff(changes: readonly FileChange[]): string {
  let out = '';
  for (const c of changes) {
    if (isText(c.rel)) {
      out += unifiedDiff(
        c.before?.toString('utf8') ?? null,
        c.after?.toString('utf8') ?? null,
        `a/${c.rel}`,
        `b/${c.rel}`,
      );
    } else {
      const a = c.before ? `a/${c.rel}` : '/dev/null';
      const b = c.after ? `b/${c.rel}` : '/dev/null';
      out += `--- ${a}\n+++ ${b}\nBinary files ${a} and ${b} differ (${c.before?.length ?? 0} -> ${c.after?.length ?? 0} bytes)\n`;
    }
  }
  return out;
}

/** Production dependencies. */
export function defaultDeps(): InstallerDeps {
  return { fs: nodeFsOps, loadOverlay: packageOverlayLoader(nodeFsOps), now: () => new Date() };
}

type Logger = ReturnType<typeof createCliLogger>;

/** What one invocation works on, once parsed. */
interface Run {
  readonly t: Target;
  readonly info: (typeof BOARDS)[BoardId];
  readonly dry: boolean;
  readonly deps: InstallerDeps;
  readonly log: Logger;
  readonly out: (s: string) => void;
}

async function listCommand(r: Run): Promise<number> {
  const installed = await installedOverlays(r.t, r.deps).catch(() => [] as string[]);
  r.out(`overlays for ${r.t.board} (${r.info.title}):\n`);
  for (const o of OVERLAYS)
    r.out(`  ${installed.includes(o.name) ? '*' : ' '} ${o.name.padEnd(12)} ${o.summary}\n`);
  r.out('(* = installed)\n');
  return 0;
}

async function statusCommand(r: Run): Promise<number> {
  const s = await status(r.t, r.deps);
  r.out(`board: ${r.t.board} (${r.info.title})\nboot config: ${s.config}\n`);
  if (s.overlays.length === 0) r.out('overlays: none installed\n');
  for (const o of s.overlays)
    r.out(`overlay: ${o.name} ${o.present ? 'ok' : 'MISSING FILE'} ${o.dtbo}\n`);
  r.out(`backups: ${s.backups} (${stateDirOf(r.t)})\n`);
  return s.overlays.every((o) => o.present) ? 0 : 1;
}

async function rollbackCommand(r: Run): Promise<number> {
  const { t } = r;
  const boot = await BootFiles.open(t.root);
  let plan;
  try {
    plan = r.dry
      ? await planRollback(boot, t.root, stateDirOf(t), t.board)
      : await rollback(boot, r.deps.fs, t.root, stateDirOf(t), t.board);
  } finally {
    await boot.close();
  }
  if (r.dry) {
    r.out(renderDiff(plan.changes));
    return 0;
  }
  r.out(`rolled back "${plan.action}" (${plan.changes.length} file(s) restored)\n`);
  r.log.info(
    {
      event: 'dt.rolled_back',
      board: t.board,
      root: t.root,
      undone: plan.action,
      files: plan.changes.map((c) => c.rel),
    },
    `rolled back "${plan.action}"`,
  );
  return 0;
}

async function changeCommand(r: Run, cmd: 'install' | 'remove', arg: string): Promise<number> {
  const plan =
    cmd === 'install' ? await planInstall(r.t, arg, r.deps) : await planRemove(r.t, arg, r.deps);
  if (r.dry) {
    r.out(renderDiff(plan.changes));
    return 0;
  }
  if (plan.changes.length === 0) {
    r.out(
      `${plan.overlay}: ${cmd === 'install' ? 'already installed' : 'not installed'}, nothing to do\n`,
    );
    return 0;
  }
  await applyPlan(r.t, plan, `${cmd} ${plan.overlay}`, r.deps);
  const done = cmd === 'install' ? 'installed' : 'removed';
  r.log.info(
    {
      event: cmd === 'install' ? 'dt.installed' : 'dt.removed',
      board: r.t.board,
      root: r.t.root,
      overlay: plan.overlay,
      files: plan.changes.map((c) => c.rel),
    },
    `${done} overlay ${plan.overlay}; reboot to apply`,
  );
  r.out(
    `${done} ${plan.overlay} on ${r.t.board}: ${plan.changes.map((c) => c.rel).join(', ')}; reboot to apply\n`,
  );
  return 0;
}

/** Parses argv; a usage error is thrown as EDGEFLOW_DT_USAGE. */
function parse(argv: readonly string[]) {
  const parsed = parseCommandLine(
    argv,
    { allowPositionals: true, options: DT_OPTIONS },
    usageError,
  );
  const [cmd, arg, ...extra] = parsed.positionals;
  const needsArg = cmd === 'install' || cmd === 'remove';
  if (!parsed.values.help && !cmd) throw usageError('missing command');
  if (!parsed.values.help && (!COMMANDS.includes(cmd ?? '') || needsArg !== Boolean(arg)))
    throw usageError(`bad usage of ${cmd}`);
  if (!parsed.values.help && extra.length > 0)
    throw usageError(`unexpected arguments: ${extra.join(' ')}`);
  return parsed;
}

/**
 * Run `edgeflow dt …`. Returns 0 on success, 1 when the operation failed or was refused, 2 on
 * a usage error. `deps` is for tests.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  deps: InstallerDeps = defaultDeps(),
): Promise<number> {
  const out = (s: string) => io.stdout.write(s);
  let parsed;
  let log;
  try {
    parsed = parse(argv);
    if (parsed.values.help) {
      out(USAGE);
      return 0;
    }
    log = createCliLogger('edgeflow-dt', io, logChoice(parsed.values, io.env));
  } catch (e) {
    const err = e instanceof LogOptionError ? usageError(e.message, e) : e;
    return usageFailure(io, 'edgeflow dt', err, USAGE);
  }
  const { values, positionals } = parsed;
  const [cmd, arg] = positionals;
  const root = values['boot-root'];
  try {
    const board: BoardId = await resolveBoard(values.board, root, deps.fs, values.force);
    const info = BOARDS[board];
    if (info.layout === 'none') {
      io.stderr.write(
        `edgeflow dt: EDGEFLOW_DT_NO_DEVICE_TREE: ${board}: ${info.refusal ?? 'no device tree'}\n`,
      );
      return cmd === 'list' || cmd === 'status' ? 0 : 1;
    }
    const r: Run = { t: { board, root }, info, dry: values['dry-run'], deps, log, out };
    if (cmd === 'list') return await listCommand(r);
    if (cmd === 'status') return await statusCommand(r);
    if (cmd === 'rollback') return await rollbackCommand(r);
    return await changeCommand(r, cmd === 'install' ? 'install' : 'remove', arg ?? '');
  } catch (e) {
    if (e instanceof DtError) {
      io.stderr.write(`edgeflow dt: ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
