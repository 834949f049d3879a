import { formatCliError } from '@edgeflow/core';
import { OtaError } from './errors.js';
import { COMMANDS } from './cli-commands.js';
import type { CliIo } from './cli-io.js';
import { out, PATH_HELP } from './cli-io.js';

export type { CliIo } from './cli-io.js';

const USAGE = `usage: edgeflow ota <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "edgeflow ota <command> --help" for the options of a command. See docs/ota.md.`;

/**
 * Entry point of `edgeflow ota …`. `argv` is what follows "ota". Returns the exit code:
 * 0 ok, 1 the operation failed or was refused (code printed on stderr), 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(name === undefined ? { ...io, stdout: io.stderr } : io, USAGE);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    out({ ...io, stdout: io.stderr }, `edgeflow ota: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const more = [cmd.help, cmd.paths ? PATH_HELP : undefined].filter((s) => s !== undefined);
    out(io, [`usage: edgeflow ota ${name} ${cmd.usage}`, cmd.summary, ...more].join('\n\n'));
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    io.stderr.write(`${formatCliError(`edgeflow ota ${name}`, e, true)}\n`);
    return e instanceof OtaError && e.code === 'EDGEFLOW_OTA_USAGE' ? 2 : 1;
  }
}
