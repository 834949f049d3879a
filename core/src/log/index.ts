/**
 * @edgeflow/core/log: the one logger setup of every EdgeFlow tool (agent, OTA, device trees,
 * EdgeReady). A subpath of its own because it carries pino; the main entry stays `node:`-only.
 */
export {
  createLogger,
  resolveOutput,
  LOG_FORMATS,
  LOG_LEVELS,
  type LineSink,
  type LogFormat,
  type LogLevel,
  type LoggerOptions,
  type LogOutput,
} from './logger.js';
export { isJournalStream, syslogPriority, type JournalProbe } from './journal.js';
export { formatPretty, levelNumber, type PrettyOptions } from './pretty.js';
export {
  createCliLogger,
  LOG_CLI_HELP,
  LOG_CLI_OPTIONS,
  LogOptionError,
  logChoice,
} from './cli-options.js';
