import { resolve } from 'node:path';
import { formatCliError, parseCommandLine, type CliIo } from '@edgeflow/core';
import { defaultEdgeflowCli } from '../agent/edgeflow-cli.js';
import { catalog } from '../catalog/catalog.js';
import { renderList } from '../catalog/render.js';
import { EdgeReadyError } from '../errors.js';
import { verifyReport } from '../report/verify.js';
import { runPaths } from '../run/checkpoint.js';
import { resumeRun, startRun } from '../run/lifecycle.js';
import type { RunOutcome } from '../run/runner.js';
import type { RunOptions } from '../run/types.js';
import { clamp, parseDuration, parseLoopback, parsePcrs, parsePositive } from './args.js';
import {
  DRILL_RUN_OPTIONS,
  DRILL_USAGE,
  drillBundlesCommand,
  drillRunOptions,
} from './ota-drill-cli.js';

export type { CliIo };

/** What the bin (or a test) provides besides the streams. */
export interface CliDeps {
  /** Resolves when the operator asks to stop (SIGINT/SIGTERM). Never resolves by default. */
  readonly stopSignal?: Promise<void>;
}

const USAGE = `usage: edgeready <command> [options]

commands:
  list [--long] [--json]                 the catalog of checks
  run --mode functional|stress --duration 72h|30m|2m --out DIR [options]
  resume DIR [--json-progress]           continue a run after a crash, reboot or Ctrl-C
  verify-report ARCHIVE --enrolment FILE [--challenge NONCE] [--json]
  ota-drill-bundles --from RELEASE_DIR --version V --key KEY --out DIR   the OTA drill's bundle pair

run options:
  --board auto|sim|<profile>   board (default auto)         --root DIR     host root (default /)
  --agent-url URL              use a running agent (else the suite starts its own)
  --mqtt-url URL               its broker (default mqtt://<agent host>:1883)
  --mqtt-username NAME --mqtt-password-file FILE   the suite's MQTT user (never a password here)
  --challenge NONCE            hex nonce from whoever orders the certification (bound into the first quote)
  --ek-roots PEM               TPM manufacturer CA certificates (without: the TPM counts as simulated)
  --agent-token-file FILE      an API token the agent grants quotes (attestation.access.apiTokens)
  --data-dir DIR               its data directory (default /var/lib/edgeflow)
  --journal-unit NAME          its systemd unit for the log (default edgeflow-agent)
  --agent-config FILE          config for the suite's own agent  --tcti TCTI   its TPM
  --rate N (200)  --publishers N (4)  --keys N (8 per publisher)  --max-inflight N (64)
  --interval D    periodic checks (default duration/12, 20s..1h)
  --sample D      sample period (default duration/600, 1s..60s)
  --p99-limit MS (500)  --fsync-p99-limit MS (100)  --hardening-max N (2.0)
  --ota-rollback-limit SEC (120)  --max-gap RATIO (0.05)  --pcrs LIST (0-7,23)
  --stall-limit D (10s)  --trend-min D (30m)  --clock-tolerance RATIO (0.02)
  --gpio-loopback OUT:IN (repeatable)  --enrolment FILE  --unit-file FILE
${DRILL_USAGE}
  --edgeflow-cli PATH          the agent's edgeflow CLI (default: from @edgeflow/agent)
  --json-progress              one JSON progress object per second on stdout

Exit codes: 0 the run passed (or the report verifies), 3 passed on simulated hardware or
stand-ins only ("pass (simulated)": not a certification), 1 failed, refused or incomplete,
2 usage.
See docs/edgeready.md.
`;

const usageError = (message: string, cause: unknown): EdgeReadyError =>
  new EdgeReadyError('EDGEFLOW_ER_USAGE', message, { cause });

function outcome(io: CliIo, o: RunOutcome, json: boolean): number {
  const files = o.files.join('\n  ');
  const failure = o.state.failure;
  // The reason a run failed goes to stderr in both modes: scripts read the JSON result, people
  // read the terminal.
  if (failure) io.stderr.write(`edgeready: the run failed: ${failure.code}: ${failure.message}\n`);
  if (!json)
    io.stderr.write(
      `edgeready: ${o.verdict.toUpperCase()} (run ${o.state.runId}, ER-ID ${o.state.identity?.erId ?? 'none'})\n  ${files}\n`,
    );
  else
    io.stdout.write(
      `${JSON.stringify({ type: 'result', verdict: o.verdict, runId: o.state.runId, erId: o.state.identity?.erId ?? null, failure: failure ?? null, files: o.files })}\n`,
    );
  return o.verdict === 'pass' ? 0 : o.verdict === 'pass (simulated)' ? 3 : 1;
}

const HEX_CHALLENGE = /^(?:[0-9a-fA-F]{2}){8,64}$/;

function parseChallenge(v: string | undefined): string | null {
  if (v === undefined) return null;
  if (!HEX_CHALLENGE.test(v))
    throw new EdgeReadyError('EDGEFLOW_ER_USAGE', '--challenge must be 8 to 64 bytes of hex');
  return v.toLowerCase();
}

function runOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { opts: RunOptions; json: boolean; challenge: string | null } {
  const parsed = parseCommandLine(
    argv,
    {
      options: {
        mode: { type: 'string' },
        duration: { type: 'string' },
        out: { type: 'string' },
        board: { type: 'string', default: 'auto' },
        root: { type: 'string', default: '/' },
        'agent-url': { type: 'string' },
        'mqtt-url': { type: 'string' },
        'agent-token-file': { type: 'string' },
        'mqtt-username': { type: 'string' },
        'mqtt-password-file': { type: 'string' },
        challenge: { type: 'string' },
        'ek-roots': { type: 'string' },
        'stall-limit': { type: 'string' },
        'trend-min': { type: 'string' },
        'clock-tolerance': { type: 'string' },
        'data-dir': { type: 'string' },
        'journal-unit': { type: 'string', default: 'edgeflow-agent' },
        'agent-config': { type: 'string' },
        tcti: { type: 'string' },
        rate: { type: 'string' },
        publishers: { type: 'string' },
        keys: { type: 'string' },
        'max-inflight': { type: 'string' },
        interval: { type: 'string' },
        sample: { type: 'string' },
        'p99-limit': { type: 'string' },
        'fsync-p99-limit': { type: 'string' },
        'hardening-max': { type: 'string' },
        'ota-rollback-limit': { type: 'string' },
        'max-gap': { type: 'string' },
        pcrs: { type: 'string', default: '0-7,23' },
        'gpio-loopback': { type: 'string', multiple: true },
        enrolment: { type: 'string' },
        'unit-file': { type: 'string' },
        'edgeflow-cli': { type: 'string' },
        'json-progress': { type: 'boolean', default: false },
        ...DRILL_RUN_OPTIONS,
      },
    },
    usageError,
  );
  const v = parsed.values;
  if (v.mode !== 'functional' && v.mode !== 'stress')
    throw new EdgeReadyError('EDGEFLOW_ER_USAGE', '--mode must be functional or stress');
  if (!v.out) throw new EdgeReadyError('EDGEFLOW_ER_USAGE', 'missing --out DIR');
  if (v.mode === 'stress' && !v.duration)
    throw new EdgeReadyError('EDGEFLOW_ER_USAGE', 'stress mode needs --duration (72h, 30m, 2m)');
  const durationMs = parseDuration(v.duration ?? '2m');
  const out = resolve(v.out);
  const cli = v['edgeflow-cli'] ?? env.EDGEFLOW_CLI ?? defaultEdgeflowCli();
  if (!cli)
    throw new EdgeReadyError(
      'EDGEFLOW_ER_EDGEFLOW_CLI',
      'cannot find the edgeflow CLI: install @edgeflow/agent or pass --edgeflow-cli',
    );
  const agentUrl = v['agent-url'];
  let mqttUrl = v['mqtt-url'];
  if (agentUrl && !mqttUrl) mqttUrl = `mqtt://${new URL(agentUrl).hostname}:1883`;
  const tcti = v.tcti ?? env.EDGEFLOW_TPM_TCTI;
  const opts: RunOptions = {
    mode: v.mode,
    durationMs,
    intervalMs: v.interval
      ? parseDuration(v.interval, '--interval')
      : clamp(durationMs / 12, 20_000, 3_600_000),
    sampleMs: v.sample
      ? parseDuration(v.sample, '--sample')
      : clamp(durationMs / 600, 1000, 60_000),
    outDir: out,
    board: v.board,
    root: resolve(v.root),
    ...(agentUrl ? { agentUrl } : {}),
    ...(mqttUrl ? { mqttUrl } : {}),
    ...(v['agent-token-file'] ? { agentTokenFile: resolve(v['agent-token-file']) } : {}),
    ...(v['mqtt-username'] ? { mqttUsername: v['mqtt-username'] } : {}),
    ...(v['mqtt-password-file'] ? { mqttPasswordFile: resolve(v['mqtt-password-file']) } : {}),
    ...(v['ek-roots'] ? { ekRoots: resolve(v['ek-roots']) } : {}),
    stallLimitMs: v['stall-limit'] ? parseDuration(v['stall-limit'], '--stall-limit') : 10_000,
    trendMinMs: v['trend-min'] ? parseDuration(v['trend-min'], '--trend-min') : 30 * 60_000,
    clockTolerance: parsePositive(v['clock-tolerance'], '--clock-tolerance', 0.02),
    ...(v['agent-config'] ? { agentConfig: resolve(v['agent-config']) } : {}),
    ...(tcti ? { tcti } : {}),
    dataDir: agentUrl ? resolve(v['data-dir'] ?? '/var/lib/edgeflow') : runPaths(out).agentData,
    edgeflowCli: cli,
    rate: parsePositive(v.rate, '--rate', 200),
    publishers: Math.round(parsePositive(v.publishers, '--publishers', 4)),
    keysPerPublisher: Math.round(parsePositive(v.keys, '--keys', 8)),
    maxInflight: Math.round(parsePositive(v['max-inflight'], '--max-inflight', 64)),
    p99LimitMs: parsePositive(v['p99-limit'], '--p99-limit', 500),
    fsyncP99LimitMs: parsePositive(v['fsync-p99-limit'], '--fsync-p99-limit', 100),
    hardeningMax: parsePositive(v['hardening-max'], '--hardening-max', 2),
    otaRollbackLimitSec: parsePositive(v['ota-rollback-limit'], '--ota-rollback-limit', 120),
    ...drillRunOptions(v),
    maxGapRatio: parsePositive(v['max-gap'], '--max-gap', 0.05),
    gpioLoopback: (v['gpio-loopback'] ?? []).map(parseLoopback),
    ...(v.enrolment ? { enrolment: resolve(v.enrolment) } : {}),
    ...(v['unit-file'] ? { unitFile: resolve(v['unit-file']) } : {}),
    journalUnit: v['journal-unit'],
    halPrefix: 'hal.',
    pcrs: parsePcrs(v.pcrs),
  };
  if ((opts.mqttUsername === undefined) !== (opts.mqttPasswordFile === undefined))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      '--mqtt-username and --mqtt-password-file go together (the password is read from the file)',
    );
  return { opts, json: v['json-progress'], challenge: parseChallenge(v.challenge) };
}

/**
 * `edgeready …` (and `edgeflow edgeready …` once the lead wires it). Returns the exit code:
 * 0 pass/ok, 1 failed or refused or incomplete, 2 usage.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  deps: CliDeps = {},
): Promise<number> {
  const [cmd, ...rest] = argv;
  const stopSignal = deps.stopSignal ?? new Promise<void>(() => undefined);
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd === undefined ? io.stderr : io.stdout).write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(USAGE);
    return 0;
  }
  // Where a run reports while it goes, and what ends it early.
  const progress = (jsonProgress: boolean) => ({
    stdout: io.stdout,
    stderr: io.stderr,
    jsonProgress,
    stopSignal,
  });
  try {
    switch (cmd) {
      case 'list': {
        const { values } = parseCommandLine(
          rest,
          { options: { long: { type: 'boolean' }, json: { type: 'boolean' } } },
          usageError,
        );
        io.stdout.write(
          values.json ? `${JSON.stringify(catalog, null, 2)}\n` : renderList(values.long ?? false),
        );
        return 0;
      }
      case 'run': {
        const { opts, json, challenge } = runOptions(rest, io.env);
        return outcome(io, await startRun(opts, progress(json), challenge), json);
      }
      case 'resume': {
        const parsed = parseCommandLine(
          rest,
          {
            allowPositionals: true,
            options: {
              out: { type: 'string' },
              'json-progress': { type: 'boolean', default: false },
            },
          },
          usageError,
        );
        const dir = parsed.values.out ?? parsed.positionals[0];
        if (!dir) throw new EdgeReadyError('EDGEFLOW_ER_USAGE', 'resume needs the run directory');
        const json = parsed.values['json-progress'];
        return outcome(io, await resumeRun(resolve(dir), progress(json)), json);
      }
      case 'verify-report': {
        const parsed = parseCommandLine(
          rest,
          {
            allowPositionals: true,
            options: {
              enrolment: { type: 'string' },
              json: { type: 'boolean' },
              challenge: { type: 'string' },
            },
          },
          usageError,
        );
        const archive = parsed.positionals[0];
        const enrolment = parsed.values.enrolment;
        if (!archive || !enrolment || parsed.positionals.length !== 1)
          throw new EdgeReadyError(
            'EDGEFLOW_ER_USAGE',
            'usage: edgeready verify-report ARCHIVE --enrolment FILE [--challenge NONCE]',
          );
        const challenge = parseChallenge(parsed.values.challenge);
        const v = await verifyReport(archive, enrolment, challenge ? { challenge } : {});
        if (parsed.values.json) io.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
        else {
          for (const s of v.steps)
            io.stdout.write(`${s.status.padEnd(4)} ${s.name}: ${s.detail}\n`);
          io.stdout.write(
            v.ok
              ? `ok: ${v.erId ?? ''} (run verdict ${v.verdict ?? '?'})\n`
              : 'REJECTED: the report does not verify\n',
          );
        }
        return v.ok ? 0 : 1;
      }
      case 'ota-drill-bundles':
        return await drillBundlesCommand(rest, io);
      default:
        io.stderr.write(`edgeready: unknown command "${cmd}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    io.stderr.write(`${formatCliError(`edgeready ${cmd}`, e, true)}\n`);
    const usage =
      e instanceof EdgeReadyError &&
      (e.code === 'EDGEFLOW_ER_USAGE' || e.code === 'EDGEFLOW_ER_BAD_DURATION');
    return usage ? 2 : 1;
  }
}
