import { AgentError } from '../errors.js';

/** The agent CLI's usage error (exit 2): `edgeflow: EDGEFLOW_CLI_USAGE: <what is wrong>`. */
export function cliUsageError(message: string, cause?: unknown): AgentError {
  return new AgentError('EDGEFLOW_CLI_USAGE', message, cause === undefined ? {} : { cause });
}
