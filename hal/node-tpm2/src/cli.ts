import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { atomicWriteFile, parseCommandLine, type CliIo, type CliOptions } from '@edgeflow/core';
import { httpAgentApi } from './attest/client.js';
import { enrol, parsePcrList, type AgentApi } from './attest/enrol.js';
import { parseEnrolment, parsePolicy, policyPcrs, type GoldenPolicy } from './attest/records.js';
import { verifyQuote } from './attest/verifier.js';
import { TpmError } from './errors.js';

export type { CliIo };

/** Replaceable world of the CLI (tests inject an in-process agent). */
export interface CliDeps {
  /** `token`: from --token-file or EDGEFLOW_API_TOKEN (quote and activate need it). */
  readonly agentApi: (url: string, token?: string) => AgentApi;
  readonly now: () => Date;
}

const defaultDeps: CliDeps = {
  agentApi: (url, token) => httpAgentApi(url, undefined, token),
  now: () => new Date(),
};

const TOKEN_HELP = `  --token-file FILE: an API token granted in the agent's attestation.access.apiTokens (quotes
  and activation need it; else EDGEFLOW_API_TOKEN). Never pass a token on the command line.`;

const DEFAULT_PCRS = '0-7,23';

const USAGE = {
  enroll: `usage: edgeflow attest enroll --agent URL --out FILE [--ek-roots PEM] [--token-file FILE] [-h|--help]
  PEM: bundle of trusted EK CA certificates (manufacturer roots and intermediates).
${TOKEN_HELP}
  Reads the device identity, checks the AK, binds it to the EK by credential activation,
  takes a first quote and writes the enrolment record to FILE. Exit 0 only if every check passed.`,
  verify: `usage: edgeflow attest verify --agent URL --enrolment FILE [--policy FILE] [--pcrs LIST] [--bank sha256] [--ek-roots PEM] [--no-update] [--token-file FILE] [-h|--help]
  Sends a fresh nonce, verifies the quote and prints the JSON verdict. Exit 0 only if every
  check passed; then the enrolment's lastQuote is updated (replay detection) unless --no-update.
  LIST defaults to the policy's PCRs, else ${DEFAULT_PCRS}.
${TOKEN_HELP}`,
  policy: `usage: edgeflow attest policy --agent URL --out FILE [--pcrs LIST] [--bank sha256] [--enrolment FILE] [--token-file FILE] [-h|--help]
  Captures golden PCR values from the device (verified against FILE first when --enrolment is given).
${TOKEN_HELP}`,
};
const common = {
  help: { type: 'boolean', short: 'h' },
  agent: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

const OPTIONS = {
  enroll: { ...common, out: { type: 'string' }, 'ek-roots': { type: 'string' } },
  verify: {
    ...common,
    enrolment: { type: 'string' },
    policy: { type: 'string' },
    pcrs: { type: 'string' },
    bank: { type: 'string' },
    'ek-roots': { type: 'string' },
    'no-update': { type: 'boolean' },
  },
  policy: {
    ...common,
    out: { type: 'string' },
    pcrs: { type: 'string' },
    bank: { type: 'string' },
    enrolment: { type: 'string' },
  },
} as const;

const TOP = `usage: edgeflow attest <enroll|verify|policy> [options]   (--help on each for details)`;

function write(s: NodeJS.WritableStream, text: string): void {
  s.write(text.endsWith('\n') ? text : `${text}\n`);
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/** The API token from a file (first line) or EDGEFLOW_API_TOKEN; undefined when neither. */
async function readToken(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (file === undefined) return env['EDGEFLOW_API_TOKEN'] || undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TpmError(
      'EDGEFLOW_ATTEST_AGENT_REQUEST',
      `--token-file ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const token = text.split('\n')[0]?.trim() ?? '';
  if (token === '')
    throw new TpmError('EDGEFLOW_ATTEST_AGENT_REQUEST', `--token-file ${file} is empty`);
  return token;
}

async function readRoots(path: string | undefined): Promise<X509Certificate[]> {
  if (!path) return [];
  const pem = await readFile(path, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * `edgeflow attest ...`: enrol a device, verify it, capture a golden policy.
 * Returns the exit code: 0 ok, 1 refused/failed, 2 usage.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  deps: CliDeps = defaultDeps,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    write(sub === undefined ? io.stderr : io.stdout, TOP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'enroll' && sub !== 'verify' && sub !== 'policy') {
    write(io.stderr, `unknown attest subcommand "${sub}"\n${TOP}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    // Each subcommand accepts only the options it reads (and its --help lists them all).
    const options: CliOptions = OPTIONS[sub];
    ({ values } = parseCommandLine(
      rest,
      { options },
      (message, cause) => new Error(message, { cause }),
    ) as {
      values: Record<string, string | boolean | undefined>;
    });
  } catch (err) {
    write(io.stderr, `${(err as Error).message}\n${USAGE[sub]}`);
    return 2;
  }
  if (values['help']) {
    write(io.stdout, USAGE[sub]);
    return 0;
  }
  const need = sub === 'verify' ? ['agent', 'enrolment'] : ['agent', 'out'];
  const missing = need.filter((k) => typeof values[k] !== 'string');
  if (missing.length > 0) {
    write(io.stderr, `missing --${missing.join(', --')}\n${USAGE[sub]}`);
    return 2;
  }
  const str = (k: string): string | undefined =>
    typeof values[k] === 'string' ? values[k] : undefined;
  try {
    const agent = str('agent') as string;
    const api = deps.agentApi(agent, await readToken(str('token-file'), io.env));
    if (sub === 'enroll') {
      const res = await enrol(api, {
        agent,
        ekRoots: await readRoots(str('ek-roots')),
        now: deps.now(),
      });
      write(io.stdout, JSON.stringify({ ok: res.ok, checks: res.checks }, null, 2));
      if (!res.ok || !res.record) return 1;
      await atomicWriteFile(str('out') as string, `${JSON.stringify(res.record, null, 2)}\n`, {
        mode: 0o644,
      });
      return 0;
    }
    if (sub === 'verify') return await verify(api, str, values['no-update'] === true, io, deps);
    return await capturePolicy(api, str, io, deps);
  } catch (err) {
    const code = err instanceof TpmError ? `${err.code}: ` : '';
    write(io.stderr, `attest ${sub}: ${code}${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function verify(
  api: AgentApi,
  str: (k: string) => string | undefined,
  noUpdate: boolean,
  io: CliIo,
  deps: CliDeps,
): Promise<number> {
  const enrolmentPath = str('enrolment') as string;
  let enrolment;
  try {
    enrolment = parseEnrolment(await readJson(enrolmentPath), enrolmentPath);
  } catch (err) {
    if (err instanceof TpmError) throw err;
    throw new TpmError(
      'EDGEFLOW_ATTEST_BAD_ENROLMENT',
      `${enrolmentPath}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const policyPath = str('policy');
  let policy: GoldenPolicy | undefined;
  if (policyPath) {
    try {
      policy = parsePolicy(await readJson(policyPath), policyPath);
    } catch (err) {
      if (err instanceof TpmError) throw err;
      throw new TpmError('EDGEFLOW_ATTEST_BAD_POLICY', `${policyPath}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const bank = policy?.bank ?? str('bank') ?? 'sha256';
  const pcrs =
    str('pcrs') !== undefined
      ? parsePcrList(str('pcrs') as string)
      : policy
        ? policyPcrs(policy)
        : parsePcrList(DEFAULT_PCRS);
  const nonce = randomBytes(32);
  const response = await api.quote({ nonce: nonce.toString('hex'), pcrs, bank });
  const verdict = verifyQuote({
    enrolment,
    nonce,
    requested: { bank, pcrs },
    response,
    policy,
    ekRoots: await readRoots(str('ek-roots')),
    now: deps.now(),
  });
  write(
    io.stdout,
    JSON.stringify({ ok: verdict.ok, checks: verdict.checks, quote: verdict.quote }, null, 2),
  );
  if (!verdict.ok || !verdict.nextState) return 1;
  if (!noUpdate) {
    await atomicWriteFile(
      enrolmentPath,
      `${JSON.stringify({ ...enrolment, lastQuote: verdict.nextState }, null, 2)}\n`,
      { mode: 0o644 },
    );
  }
  return 0;
}

async function capturePolicy(
  api: AgentApi,
  str: (k: string) => string | undefined,
  io: CliIo,
  deps: CliDeps,
): Promise<number> {
  const bank = str('bank') ?? 'sha256';
  const pcrs = parsePcrList(str('pcrs') ?? DEFAULT_PCRS);
  const nonce = randomBytes(32);
  const response = await api.quote({ nonce: nonce.toString('hex'), pcrs, bank });
  const enrolmentPath = str('enrolment');
  if (enrolmentPath) {
    const enrolment = parseEnrolment(await readJson(enrolmentPath), enrolmentPath);
    const v = verifyQuote({
      enrolment: { ...enrolment, lastQuote: null },
      nonce,
      requested: { bank, pcrs },
      response,
      now: deps.now(),
    });
    if (!v.ok) {
      write(io.stdout, JSON.stringify({ ok: false, checks: v.checks }, null, 2));
      write(
        io.stderr,
        'attest policy: the quote does not verify against the enrolment; policy not written',
      );
      return 1;
    }
  }
  const values: Record<string, string> = {};
  for (const p of pcrs) {
    const v = response.pcrs[String(p)];
    if (v === undefined)
      throw new TpmError('EDGEFLOW_ATTEST_AGENT_REQUEST', `agent did not report PCR ${p}`);
    values[String(p)] = v;
  }
  const policy: GoldenPolicy = {
    version: 1,
    capturedAt: deps.now().toISOString(),
    bank,
    pcrs: values,
  };
  await atomicWriteFile(str('out') as string, `${JSON.stringify(policy, null, 2)}\n`, {
    mode: 0o644,
  });
  write(io.stdout, JSON.stringify({ ok: true, policy }, null, 2));
  return 0;
}
