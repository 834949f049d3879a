import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from '../broker/password.js';
import {
  ExitCode,
  parseCommandLine,
  usageFailure,
  type CliIo,
  type CliOptions,
} from '@edgeflow/core';
import { cliUsageError } from './usage-error.js';

export const mqttUsage = `Usage: edgeflow mqtt passwd [--user NAME] [--publish PATTERN]... [--subscribe PATTERN]...

Reads a password from standard input (one line; nothing is echoed when it is a terminal and
the shell's 'read -rs' is used) and prints the mqtt.auth.users entry with its scrypt hash
(N=16384, r=8, p=1). The password itself is never printed or stored.

The entry is least privilege: by default the user may publish to its own sensor topics
(sensors/%u/#, %u = its user name) and subscribe to nothing. Commands
(edgeflow/<device>/...) are never reached by a wildcard: grant one with a pattern that names
it (--publish 'edgeflow/+/gpio/relay/set') plus the feature's grant (gpio.access.mqttUsers,
attestation.access.mqttUsers, ota.access.mqttUsers; docs/api.md). Results and status there are
delivered only through a pattern that names them too (--subscribe 'edgeflow/+/gpio/relay/result').

  printf %s "$PW" | edgeflow mqtt passwd --user sensor-gw-1

Options:
  -u, --user NAME          the user name of the entry (default: user)
  -p, --publish PATTERN    a topic pattern it may publish to (repeat; replaces the default)
  -s, --subscribe PATTERN  a topic filter it may subscribe to (repeat; default: none)
  -h, --help               show this help
`;

export const httpUsage = `Usage: edgeflow http token [--name NAME]

Creates a random API token for the HTTP API: state-changing routes (PUT /v1/gpio/..., the
console's OTA commit and rollback) and reads on a non-loopback listener. GPIO writes also need
the token's name in gpio.access.apiTokens, attestation quote and activation in
attestation.access.apiTokens (docs/api.md, docs/attestation.md).
Prints the token once on standard output, and the http.apiTokens entry (its SHA-256, which is
all the configuration keeps) on standard error.

Options:
  -n, --name NAME   the token's name in the configuration and in logs (default: operator)
  -h, --help        show this help
`;

const MQTT_OPTIONS = {
  user: { type: 'string', short: 'u' },
  publish: { type: 'string', short: 'p', multiple: true },
  subscribe: { type: 'string', short: 's', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A sensor account's own topics: the least an entry grants (docs/ingest.md, ACLs). */
const DEFAULT_PUBLISH = ['sensors/%u/#'];

const HTTP_OPTIONS = {
  name: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Options of `<command> <verb>`: exactly the verb of `synopsis` (its third word) as operand,
 * unless help is asked for.
 */
function parseVerb<const O extends CliOptions>(
  argv: readonly string[],
  options: O,
  synopsis: string,
) {
  const parsed = parseCommandLine(argv, { options, allowPositionals: true }, cliUsageError);
  const helpAsked = (parsed.values as { help?: boolean }).help === true;
  if (!helpAsked && parsed.positionals.join(' ') !== synopsis.split(' ')[2])
    throw cliUsageError(`expected: ${synopsis}`);
  return parsed.values;
}

async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl).replace(/\r$/, '');
}

/** `edgeflow mqtt passwd`. */
export async function runMqttCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    values = parseVerb(
      argv,
      MQTT_OPTIONS,
      'edgeflow mqtt passwd [--user NAME] [--publish PATTERN]... [--subscribe PATTERN]...',
    );
  } catch (err) {
    return usageFailure(io, 'edgeflow mqtt', err, mqttUsage);
  }
  if (values.help === true) {
    io.stdout.write(mqttUsage);
    return ExitCode.OK;
  }
  const user = values.user ?? 'user';
  if (io.stdin === undefined) {
    io.stderr.write('edgeflow mqtt passwd: no standard input to read the password from\n');
    return ExitCode.FAILED;
  }
  const password = await readLine(io.stdin);
  if (password.length === 0) {
    io.stderr.write('edgeflow mqtt passwd: the password on standard input is empty\n');
    return ExitCode.FAILED;
  }
  const hash = await hashPassword(password);
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  io.stdout.write(
    [
      'mqtt:',
      '  auth:',
      '    users:',
      `      - username: ${JSON.stringify(user)}`,
      `        passwordHash: '${hash}'`,
      '        # Least privilege; commands (edgeflow/<device>/...) need a pattern naming them.',
      `        publish: ${list(values.publish ?? DEFAULT_PUBLISH)}`,
      `        subscribe: ${list(values.subscribe ?? [])}`,
      '',
    ].join('\n'),
  );
  return ExitCode.OK;
}

/** `edgeflow http token`. */
export function runHttpCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    values = parseVerb(argv, HTTP_OPTIONS, 'edgeflow http token [--name NAME]');
    const n = values.name;
    if (n !== undefined && (n.length === 0 || n.length > 64))
      throw cliUsageError('--name must be 1-64 characters');
  } catch (err) {
    return Promise.resolve(usageFailure(io, 'edgeflow http token', err, httpUsage));
  }
  if (values.help === true) {
    io.stdout.write(httpUsage);
    return Promise.resolve(ExitCode.OK);
  }
  const name = values.name ?? 'operator';
  const token = randomBytes(32).toString('base64url');
  const sha256 = createHash('sha256').update(token).digest('hex');
  io.stdout.write(`${token}\n`);
  io.stderr.write(
    `# add to the agent configuration (the token above is not stored anywhere):\nhttp:\n  apiTokens:\n    - name: ${JSON.stringify(name)}\n      sha256: ${sha256}\n`,
  );
  return Promise.resolve(ExitCode.OK);
}
