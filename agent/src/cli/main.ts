import { agentUsage, runAgentCommand } from './agent-command.js';
import { ExitCode, usageFailure, type CliIo } from '@edgeflow/core';
import { cliUsageError } from './usage-error.js';
import { runHttpCommand, runMqttCommand } from './credentials-command.js';
import { subcommands } from './subcommands.js';
import { agentVersion } from '../version.js';

export const mainUsage = `Usage: edgeflow <command> [options]

Commands:
  agent     run the agent (embedded MQTT broker, sensor cache, HTTP API)
  mqtt      hash a broker user's password for the configuration (mqtt passwd)
  http      create an API token for the HTTP API (http token)
${subcommands.map((s) => `  ${s.name.padEnd(8)}  ${s.summary}`).join('\n')}

Options:
  -h, --help       show this help (every command takes --help too)
  -v, --version    print the version

Exit codes: 0 ok, 1 failed or refused, 2 usage error, 70 internal error, 78 bad configuration.
`;

/** Dispatches `edgeflow <command> ...`; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout).write(mainUsage);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (command === '-v' || command === '--version') {
    io.stdout.write(`edgeflow ${agentVersion()}\n`);
    return ExitCode.OK;
  }
  if (command === 'agent') return runAgentCommand(rest, io);
  if (command === 'mqtt') return runMqttCommand(rest, io);
  if (command === 'http') return runHttpCommand(rest, io);
  const sub = subcommands.find((s) => s.name === command);
  if (sub !== undefined) return sub.run(rest, io);
  const err = cliUsageError(`unknown command ${JSON.stringify(command)}`);
  return usageFailure(io, 'edgeflow', err, mainUsage);
}

export { agentUsage };
