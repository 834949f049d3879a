import { createHash, randomBytes } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { hashPassword } from '../broker/password.js';
import { ExitCode, type CliIo } from './io.js';

export const mqttUsage = `Usage: edgeflow mqtt passwd [--user NAME]

Reads a password from standard input (one line; nothing is echoed when it is a terminal and
the shell's 'read -rs' is used) and prints the mqtt.auth.users entry with its scrypt hash
(N=16384, r=8, p=1). The password itself is never printed or stored.

  printf %s "$PW" | edgeflow mqtt passwd --user sensor-gw-1

Options:
  -u, --user NAME   the user name of the entry (default: user)
  -h, --help        show this help
`;

export const httpUsage = `Usage: edgeflow http token [--name NAME]

Creates a random API token for the state-changing HTTP endpoints (PUT /v1/gpio/..., the
attestation activation). Prints the token once on standard output, and the http.apiTokens
entry (its SHA-256, which is all the configuration keeps) on standard error.

Options:
  -n, --name NAME   the token's name in the configuration and in logs (default: operator)
  -h, --help        show this help
`;

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
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
  let values: { user?: string | boolean | undefined; help?: string | boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv, {
      user: { type: 'string', short: 'u' },
      help: { type: 'boolean', short: 'h' },
    }));
  } catch (err) {
    io.stderr.write(`edgeflow mqtt: ${(err as Error).message}\n\n${mqttUsage}`);
    return ExitCode.USAGE;
  }
  if (values.help === true) {
    io.stdout.write(mqttUsage);
    return ExitCode.OK;
  }
  if (positionals.length !== 1 || positionals[0] !== 'passwd') {
    io.stderr.write(mqttUsage);
    return ExitCode.USAGE;
  }
  const user = typeof values.user === 'string' ? values.user : 'user';
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
  io.stdout.write(
    `mqtt:\n  auth:\n    users:\n      - username: ${JSON.stringify(user)}\n        passwordHash: '${hash}'\n`,
  );
  return ExitCode.OK;
}

/** `edgeflow http token`. */
export function runHttpCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values: { name?: string | boolean | undefined; help?: string | boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv, {
      name: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h' },
    }));
  } catch (err) {
    io.stderr.write(`edgeflow http: ${(err as Error).message}\n\n${httpUsage}`);
    return Promise.resolve(ExitCode.USAGE);
  }
  if (values.help === true) {
    io.stdout.write(httpUsage);
    return Promise.resolve(ExitCode.OK);
  }
  if (positionals.length !== 1 || positionals[0] !== 'token') {
    io.stderr.write(httpUsage);
    return Promise.resolve(ExitCode.USAGE);
  }
  const name = typeof values.name === 'string' ? values.name : 'operator';
  if (name.length === 0 || name.length > 64) {
    io.stderr.write('edgeflow http token: --name must be 1-64 characters\n');
    return Promise.resolve(ExitCode.USAGE);
  }
  const token = randomBytes(32).toString('base64url');
  const sha256 = createHash('sha256').update(token).digest('hex');
  io.stdout.write(`${token}\n`);
  io.stderr.write(
    `# add to the agent configuration (the token above is not stored anywhere):\nhttp:\n  apiTokens:\n    - name: ${JSON.stringify(name)}\n      sha256: ${sha256}\n`,
  );
  return Promise.resolve(ExitCode.OK);
}
