import { loadConfig } from '../config/load.js';
import { AgentError } from '../errors.js';
import { Agent } from '../lifecycle/agent.js';
import type { Logger } from 'pino';
import {
  createLogger,
  isJournalStream,
  LOG_CLI_OPTIONS,
  type LoggerOptions,
} from '@edgeflow/core/log';
import { startFailureLine } from './start-failure.js';
import { createSystemdNotifier } from '../lifecycle/systemd-notify.js';
import {
  ExitCode,
  formatCliError,
  parseCommandLine,
  usageFailure,
  type CliIo,
} from '@edgeflow/core';
import type { ConfigNotice } from '../config/renamed.js';
import type { AgentConfig } from '../config/schema.js';
import { cliUsageError } from './usage-error.js';

export const agentUsage = `Usage: edgeflow agent [--config FILE] [--data-dir DIR] [--log-level LEVEL] [--log-format FORMAT]

Runs the EdgeFlow agent in the foreground until SIGTERM or SIGINT.

Options:
  -c, --config FILE    configuration file, YAML or JSON (default: $EDGEFLOW_CONFIG, else built-in defaults)
  -d, --data-dir DIR   state directory (default: $EDGEFLOW_DATA_DIR, else dataDir from the config)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (default: $EDGEFLOW_LOG_LEVEL, else log.level)
  --log-format FORMAT  auto|json|pretty (default: $EDGEFLOW_LOG_FORMAT, else log.format; auto: readable
                       at a terminal, JSON elsewhere; under systemd each line carries its journald priority)
  -h, --help           show this help

Environment: EDGEFLOW_CONFIG, EDGEFLOW_DATA_DIR, EDGEFLOW_MQTT_PORT, EDGEFLOW_HTTP_PORT,
EDGEFLOW_LOG_LEVEL, EDGEFLOW_LOG_FORMAT (a flag beats the environment, which beats the file).
Exit codes: 0 stopped cleanly, 1 failed to start (one line on stderr says why and what to do) or a
fatal error, 2 usage, 78 bad configuration (systemd does not restart on 78).
`;

/** The parser's options (exported so a test can compare them with the help text). */
export const AGENT_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string', short: 'd' },
  ...LOG_CLI_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ProcessHooks {
  onSignal: (signal: NodeJS.Signals, handler: () => void) => void;
  onFatal: (handler: (err: unknown) => void) => void;
  pid: number;
  /** Tests capture the records; production writes to stdout. */
  createLogger?: (opts: LoggerOptions) => Logger;
}

const defaultHooks: ProcessHooks = {
  onSignal: (signal, handler) => process.on(signal, handler),
  onFatal: (handler) => {
    process.on('uncaughtException', handler);
    process.on('unhandledRejection', handler);
  },
  pid: process.pid,
};

type AgentValues = ReturnType<typeof parseCommandLine<{ options: typeof AGENT_OPTIONS }>>['values'];

export async function runAgentCommand(
  argv: readonly string[],
  io: CliIo,
  hooks: ProcessHooks = defaultHooks,
): Promise<number> {
  let values: AgentValues;
  try {
    ({ values } = parseCommandLine(argv, { options: AGENT_OPTIONS }, cliUsageError));
  } catch (err) {
    return usageFailure(io, 'edgeflow agent', err, agentUsage);
  }
  if (values.help) {
    io.stdout.write(agentUsage);
    return ExitCode.OK;
  }
  const notices: ConfigNotice[] = [];
  const config = await loadAgentConfig(values, io, (n) => notices.push(n));
  if (typeof config === 'number') return config;

  const log = (hooks.createLogger ?? createLogger)({
    service: 'edgeflow-agent',
    level: config.log.level,
    format: config.log.format,
    env: io.env,
  });
  for (const n of notices) log.warn({ event: 'config.renamed_key', ...n }, n.message);
  const notifier = createSystemdNotifier({
    env: io.env,
    pid: hooks.pid,
    onUnavailable: (reason) => log.error({ event: 'systemd.notify_unavailable' }, reason),
  });
  const exits = new ExitRequests();
  let agent: Agent;
  try {
    agent = await Agent.start(config, {
      log,
      now: Date.now,
      notifier,
      env: io.env,
      pid: hooks.pid,
      requestExit: (reason) => exits.request(reason),
    });
  } catch (err) {
    const code = err instanceof AgentError ? err.code : 'EDGEFLOW_INTERNAL';
    const line = startFailureLine(err, config);
    log.fatal({ event: 'agent.start_failed', code, err }, line);
    log.flush();
    // The plain line is for whoever started the agent (a terminal, `systemctl status`); under
    // journald it gets priority err so that `journalctl -p err` shows it next to the record.
    io.stderr.write(errLines(`edgeflow agent: ${line}\n`, io.env));
    return code === 'EDGEFLOW_INTERNAL' ? ExitCode.INTERNAL : ExitCode.FAILED;
  }
  return runUntilStopped(agent, { log, hooks, exits, deadlineMs: config.stopTimeoutSec * 1000 });
}

/**
 * Text for stderr at priority err: under journald (which splits stderr into one entry per line)
 * every line starts with `<3>`, so `journalctl -p err` shows each problem of a bad configuration.
 */
function errLines(text: string, env: NodeJS.ProcessEnv): string {
  if (!isJournalStream(2, { env })) return text;
  return text.replace(/^(?=.)/gm, '<3>');
}

/** The configuration from file, environment and flags; a failure is its exit code (78, 1). */
async function loadAgentConfig(
  values: AgentValues,
  io: CliIo,
  onNotice: (n: ConfigNotice) => void,
): Promise<AgentConfig | number> {
  try {
    return await loadConfig({
      onNotice,
      configPath: values.config,
      dataDir: values['data-dir'],
      logLevel: values['log-level'],
      logFormat: values['log-format'],
      env: io.env,
    });
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    io.stderr.write(errLines(`${formatCliError('edgeflow agent', err)}\n`, io.env));
    return err.code.startsWith('EDGEFLOW_CONFIG') ? ExitCode.CONFIG : ExitCode.FAILED;
  }
}

/**
 * Requests to end the process (an OTA trial failing). One that comes during start, before the
 * stop machinery exists, is kept and acted on as soon as it does.
 */
class ExitRequests {
  #pending: string | undefined;
  #handler: ((reason: string) => void) | undefined;

  request(reason: string): void {
    if (this.#handler === undefined) this.#pending ??= reason;
    else this.#handler(reason);
  }

  handle(handler: (reason: string) => void): void {
    this.#handler = handler;
    if (this.#pending !== undefined) handler(this.#pending);
  }
}

/**
 * Runs until SIGTERM/SIGINT (exit 0), an exit request (1) or a fatal error (70), then stops the
 * agent within the deadline (past it: exit 1, or the code already chosen).
 */
function runUntilStopped(
  agent: Agent,
  o: { log: Logger; hooks: ProcessHooks; exits: ExitRequests; deadlineMs: number },
): Promise<number> {
  const { log, hooks } = o;
  return new Promise<number>((resolve) => {
    let exiting = false;
    const finish = (code: number): void => {
      log.flush();
      resolve(code);
    };
    const stop = (reason: string, code: number): void => {
      if (exiting) return;
      exiting = true;
      const deadline = setTimeout(() => {
        log.error({ event: 'agent.stop_timeout', ms: o.deadlineMs }, 'graceful stop timed out');
        finish(code === ExitCode.OK ? ExitCode.FAILED : code);
      }, o.deadlineMs);
      deadline.unref();
      agent.stop(reason).then(
        () => {
          clearTimeout(deadline);
          finish(code);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error({ event: 'agent.stop_failed', err }, 'graceful stop failed');
          finish(ExitCode.FAILED);
        },
      );
    };
    o.exits.handle((reason) => stop(reason, ExitCode.FAILED));
    hooks.onSignal('SIGTERM', () => stop('SIGTERM', ExitCode.OK));
    hooks.onSignal('SIGINT', () => stop('SIGINT', ExitCode.OK));
    // Crash-only: an unexpected error is logged and the process exits non-zero so that
    // systemd restarts it from a known state. One bad message never gets here (ingest
    // catches per message).
    hooks.onFatal((err) => {
      log.fatal({ event: 'agent.fatal', err }, 'fatal error, exiting');
      stop('fatal error', ExitCode.INTERNAL);
    });
  });
}
