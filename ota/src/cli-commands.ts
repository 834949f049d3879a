import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCliLogger, logChoice } from '@edgeflow/core/log';
import { resolveOtaBoard, type OtaBoard } from './board.js';
import { buildBundle, drainSink, signBundle } from './bundle-writer.js';
import { openBundle } from './bundle-reader.js';
import type { CliIo } from './cli-io.js';
import { PATH_OPTIONS, need, num, out, parse, type Options } from './cli-io.js';
import { defaultDeps, killAtFromEnv } from './deps.js';
import type { OtaDeps } from './deps.js';
import { OtaError } from './errors.js';
import { install } from './install.js';
import { installFromRequest } from './request-install.js';
import { DEFAULT_REQUEST_MAX_BYTES } from './request.js';
import { generateKeyPair, loadTrustedKeys } from './keys.js';
import { otaPaths } from './paths.js';
import type { OtaPaths } from './paths.js';
import { configurePackage, removePackage } from './package-owner.js';
import { check, commitNow, poststop, prestart, rollbackNow, status } from './trial.js';
import type { TrialDecision } from './trial.js';

interface Command {
  readonly summary: string;
  readonly usage: string;
  /** Takes PATH_OPTIONS: its --help explains them (PATH_HELP). */
  readonly paths?: true;
  /** More help after the usage line. */
  readonly help?: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

type PathValues = {
  [K in keyof typeof PATH_OPTIONS]?: (typeof PATH_OPTIONS)[K]['type'] extends 'string'
    ? string
    : boolean;
};

function pathsOf(v: PathValues): OtaPaths {
  return otaPaths({
    ...(v.root !== undefined ? { root: v.root } : {}),
    ...(v['state-dir'] !== undefined ? { stateDir: v['state-dir'] } : {}),
    ...(v['report-file'] !== undefined ? { reportFile: v['report-file'] } : {}),
    ...(v['config-dir'] !== undefined ? { configDir: v['config-dir'] } : {}),
    ...(v['cache-dir'] !== undefined ? { cacheDir: v['cache-dir'] } : {}),
  });
}

function keysOf(v: PathValues, paths: OtaPaths): string {
  return v.keys ?? join(paths.root, 'keys');
}

/** The OTA operations' world, logging through the shared CLI logger (stderr, journald-aware). */
function depsFor(io: CliIo, values: LogValues = {}): OtaDeps {
  let choice;
  try {
    choice = logChoice(values, io.env);
  } catch (cause) {
    throw new OtaError('EDGEFLOW_OTA_USAGE', (cause as Error).message, { cause });
  }
  return defaultDeps({
    log: createCliLogger('edgeflow-ota', io, choice),
    checkpoint: killAtFromEnv(io.env),
  });
}

function printDecision(io: CliIo, d: TrialDecision, json: boolean | undefined): number {
  if (json) out(io, JSON.stringify(d));
  else if (d.action === 'rolled-back') out(io, `rolled back ${d.from} -> ${d.to}: ${d.reason}`);
  else if (d.action === 'none') out(io, `no trial; current ${d.current ?? 'none'}`);
  else out(io, `${d.action} ${d.version}`);
  return 0;
}

type LogValues = { 'log-level'?: string | undefined; 'log-format'?: string | undefined };

/**
 * The rollout id: --device-id, EDGEFLOW_DEVICE_ID, else the system root's machine id. Empty when
 * none exists (a scratch root, an image): only a staged rollout (< 100 %) needs one, and install
 * refuses that case by name.
 */
function deviceId(io: CliIo, given: string | undefined, paths: OtaPaths): string {
  if (given) return given;
  if (io.env.EDGEFLOW_DEVICE_ID) return io.env.EDGEFLOW_DEVICE_ID;
  try {
    return readFileSync(join(paths.systemRoot, 'etc/machine-id'), 'utf8').trim();
  } catch {
    return '';
  }
}

const INSTALL_OPTIONS = {
  ...PATH_OPTIONS,
  sha256: { type: 'string' },
  board: { type: 'string' },
  'device-id': { type: 'string' },
  'agent-version': { type: 'string' },
  'hal-version': { type: 'string' },
  'allow-downgrade': { type: 'boolean' },
  'ignore-rollout': { type: 'boolean' },
  commit: { type: 'boolean' },
  'no-restart': { type: 'boolean' },
  probation: { type: 'string' },
  deadline: { type: 'string' },
  'max-file-size': { type: 'string' },
  'max-total-size': { type: 'string' },
  request: { type: 'string' },
  'allow-http': { type: 'boolean' },
  'request-owner': { type: 'string' },
} as const satisfies Options;

type InstallValues = ReturnType<typeof parse<typeof INSTALL_OPTIONS, true>>['values'];

/**
 * The board: `--board`, else EDGEFLOW_BOARD, else detected (`auto`). A request run tolerates a
 * board it cannot identify (the path unit also fires when the request file goes away); a
 * request that is there is then refused by name.
 */
async function boardOf(values: InstallValues, io: CliIo, paths: OtaPaths): Promise<OtaBoard> {
  try {
    return await resolveOtaBoard(values.board ?? io.env.EDGEFLOW_BOARD ?? 'auto', paths.systemRoot);
  } catch (err) {
    if (values.request === undefined) throw err;
    return { id: '', compatible: [] };
  }
}

/** The options an install from a bundle, a URL or a request share. */
function installCommon(values: InstallValues, io: CliIo, paths: OtaPaths, board: OtaBoard) {
  const maxFile = num(values['max-file-size'], '--max-file-size');
  const maxTotal = num(values['max-total-size'], '--max-total-size');
  const probationSec = num(values.probation, '--probation');
  const deadlineSec = num(values.deadline, '--deadline');
  return {
    keysDir: keysOf(values, paths),
    board: board.id,
    boardCompatible: board.compatible,
    deviceId: deviceId(io, values['device-id'], paths),
    ...(values['agent-version'] ? { agentVersion: values['agent-version'] } : {}),
    ...(values['hal-version'] ? { halVersion: values['hal-version'] } : {}),
    allowDowngrade: values['allow-downgrade'] ?? false,
    ignoreRollout: values['ignore-rollout'] ?? false,
    commit: values.commit ?? false,
    noRestart: values['no-restart'] ?? false,
    ...(probationSec ? { probationSec } : {}),
    ...(deadlineSec ? { deadlineSec } : {}),
    ...(maxFile || maxTotal
      ? {
          limits: {
            maxFileSize: maxFile ?? 256 * 1024 ** 2,
            maxTotalSize: maxTotal ?? 1024 ** 3,
            maxEntries: 100_000,
          },
        }
      : {}),
  };
}

/** `install --request FILE`: the agent's request, checked and installed as root. */
async function runRequestInstall(
  values: InstallValues,
  requestFile: string,
  io: CliIo,
  paths: OtaPaths,
  common: ReturnType<typeof installCommon>,
): Promise<number> {
  const owner = num(values['request-owner'], '--request-owner');
  const maxTotal = num(values['max-total-size'], '--max-total-size');
  const o = await installFromRequest(
    paths,
    {
      ...common,
      requestFile,
      policy: {
        allowHttp: values['allow-http'] ?? io.env.EDGEFLOW_OTA_ALLOW_HTTP === '1',
        maxBytes: maxTotal ?? DEFAULT_REQUEST_MAX_BYTES,
      },
      ...(owner !== undefined ? { requestOwner: owner } : {}),
    },
    depsFor(io, values),
  );
  if (values.json) out(io, JSON.stringify(o));
  else if (o.action === 'none') out(io, `no request in ${requestFile}`);
  else if (o.action === 'already-handled') out(io, `request ${o.id} was already handled`);
  else
    out(
      io,
      `request ${o.id}: installed ${o.install.version} (from ${o.install.from ?? 'nothing'})${o.install.trial ? ', on trial' : ', committed'}${o.install.restarted ? ', service restarted' : ''}`,
    );
  return 0;
}

export const COMMANDS: Record<string, Command> = {
  keygen: {
    summary: 'generate an Ed25519 signing key pair (<name>.key, <name>.pub)',
    usage: '--out DIR [--name NAME]',
    async run(argv, io) {
      const { values } = parse(argv, { out: { type: 'string' }, name: { type: 'string' } });
      const dir = need(values.out, '--out DIR');
      const name = values.name ?? 'ota-signing';
      const k = generateKeyPair();
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${name}.key`), k.privatePem, { mode: 0o600, flag: 'wx' });
      await writeFile(join(dir, `${name}.pub`), k.publicPem, { mode: 0o644, flag: 'wx' });
      out(
        io,
        `key ${k.keyId}: ${join(dir, `${name}.key`)} (keep secret), ${join(dir, `${name}.pub`)} (copy to devices' --keys dir)`,
      );
      return 0;
    },
  },
  build: {
    summary: 'build a bundle (tar.gz) from a directory',
    usage:
      'DIR --out FILE --name NAME --version SEMVER --board B [--board B…] [--min-agent V] [--min-hal V] [--rollout PCT] [--key PRIVATE.key] [--created ISO]',
    async run(argv, io) {
      const { values, positionals } = parse(
        argv,
        {
          out: { type: 'string' },
          name: { type: 'string' },
          version: { type: 'string' },
          board: { type: 'string', multiple: true },
          'min-agent': { type: 'string' },
          'min-hal': { type: 'string' },
          rollout: { type: 'string' },
          key: { type: 'string' },
          created: { type: 'string' },
        },
        true,
      );
      if (positionals.length !== 1)
        throw new OtaError('EDGEFLOW_OTA_USAGE', 'build takes exactly one DIR');
      const rollout = num(values.rollout, '--rollout');
      const m = await buildBundle({
        dir: positionals[0] ?? '',
        out: need(values.out, '--out FILE'),
        name: need(values.name, '--name'),
        version: need(values.version, '--version'),
        boards: values.board ?? [],
        ...(values['min-agent'] ? { minAgentVersion: values['min-agent'] } : {}),
        ...(values['min-hal'] ? { minHalVersion: values['min-hal'] } : {}),
        ...(rollout !== undefined ? { rollout } : {}),
        ...(values.created ? { created: values.created } : {}),
        ...(values.key ? { privateKeyPem: await readFile(values.key, 'utf8') } : {}),
      });
      out(
        io,
        `built ${values.out ?? ''}: ${m.name} ${m.version}, ${m.files.length} entries${values.key ? ', signed' : ', unsigned'}`,
      );
      return 0;
    },
  },
  sign: {
    summary: 'add (or replace) the detached signature of a bundle',
    usage: 'BUNDLE --key PRIVATE.key [--out FILE]',
    async run(argv, io) {
      const { values, positionals } = parse(
        argv,
        { key: { type: 'string' }, out: { type: 'string' } },
        true,
      );
      const input = need(positionals[0], 'BUNDLE');
      const keyId = await signBundle(
        input,
        values.out ?? input,
        await readFile(need(values.key, '--key'), 'utf8'),
      );
      out(io, `signed ${values.out ?? input} with key ${keyId}`);
      return 0;
    },
  },
  verify: {
    summary: 'verify signature, manifest and every payload digest (writes nothing)',
    usage: 'BUNDLE --keys DIR [--json]',
    async run(argv, io) {
      const { values, positionals } = parse(
        argv,
        { keys: { type: 'string' }, json: { type: 'boolean' } },
        true,
      );
      const keys = await loadTrustedKeys(need(values.keys, '--keys DIR'));
      const b = await openBundle(need(positionals[0], 'BUNDLE'));
      try {
        const keyId = b.verify(keys);
        await b.walkPayload(drainSink);
        const r = { ok: true, name: b.manifest.name, version: b.manifest.version, keyId };
        out(io, values.json ? JSON.stringify(r) : `ok: ${r.name} ${r.version} signed by ${keyId}`);
      } finally {
        await b.close();
      }
      return 0;
    },
  },
  inspect: {
    summary: 'print the manifest (signature not checked)',
    usage: 'BUNDLE [--json]',
    async run(argv, io) {
      const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
      const b = await openBundle(need(positionals[0], 'BUNDLE'));
      await b.close();
      const m = b.manifest;
      if (values.json) out(io, JSON.stringify({ manifest: m, signature: b.signature ?? null }));
      else {
        out(
          io,
          `${m.name} ${m.version} (created ${m.created})\nboards: ${m.boards.join(', ')}\nrollout: ${m.rollout}%`,
        );
        if (m.minAgentVersion) out(io, `min agent: ${m.minAgentVersion}`);
        if (m.minHalVersion) out(io, `min HAL: ${m.minHalVersion}`);
        out(
          io,
          `signature: ${b.signature ? `key ${b.signature.keyId}` : 'none'}\nfiles: ${m.files.length}`,
        );
        for (const f of m.files)
          out(
            io,
            f.type === 'file'
              ? `  ${f.mode.toString(8)} ${String(f.size).padStart(10)} ${f.path}`
              : `  link ${f.path} -> ${f.target}`,
          );
      }
      return 0;
    },
  },
  install: {
    paths: true,
    summary: 'install a bundle (file, http(s) URL or agent request file) and restart into a trial',
    help: `install:
  --board B           this device's board, matched against the manifest's boards: auto (default:
                      detected under the system root, as edgeflow hal detect does), a profile id
                      (rpi5, jetson-orin-nano, rock-5b, ...) or a compatible string; EDGEFLOW_BOARD
  --device-id ID      rollout bucket (default EDGEFLOW_DEVICE_ID, else <system root>/etc/machine-id)
  --commit            commit at once (image building: no trial); --no-restart: leave the service`,
    usage:
      '(BUNDLE | URL --sha256 HEX | --request FILE [--allow-http] [--request-owner UID]) [--root DIR] [--keys DIR] [--board auto|ID|COMPATIBLE] [--device-id ID] [--agent-version V] [--hal-version V] [--allow-downgrade] [--ignore-rollout] [--commit] [--no-restart] [--probation SEC] [--deadline SEC] [--max-file-size N] [--max-total-size N]',
    async run(argv, io) {
      const { values, positionals } = parse(argv, INSTALL_OPTIONS, true);
      const paths = pathsOf(values);
      if (values.request !== undefined && (positionals.length > 0 || values.sha256))
        throw new OtaError('EDGEFLOW_OTA_USAGE', '--request takes no BUNDLE|URL and no --sha256');
      if (values.request === undefined && (values['allow-http'] || values['request-owner']))
        throw new OtaError('EDGEFLOW_OTA_USAGE', '--allow-http/--request-owner need --request');
      const common = installCommon(values, io, paths, await boardOf(values, io, paths));
      const maxTotal = num(values['max-total-size'], '--max-total-size');
      if (values.request !== undefined)
        return runRequestInstall(values, values.request, io, paths, common);
      const r = await install(
        paths,
        {
          ...common,
          source: need(positionals[0], 'BUNDLE|URL'),
          ...(values.sha256 ? { sha256: values.sha256 } : {}),
          ...(maxTotal ? { maxDownloadBytes: maxTotal } : {}),
        },
        depsFor(io, values),
      );
      out(
        io,
        values.json
          ? JSON.stringify(r)
          : `installed ${r.version} (from ${r.from ?? 'nothing'})${r.trial ? ', on trial' : ', committed'}${r.restarted ? ', service restarted' : ''}`,
      );
      return 0;
    },
  },
  status: {
    paths: true,
    summary: 'show current, previous, trial and history',
    usage: '[--root DIR] [--json]',
    async run(argv, io) {
      const { values } = parse(argv, PATH_OPTIONS);
      const { state: s, report } = await status(pathsOf(values), depsFor(io, values));
      if (values.json) out(io, JSON.stringify({ ...s, report: report ?? null }));
      else {
        out(io, `current:  ${s.current ?? 'none'}\nprevious: ${s.previous ?? 'none'}`);
        const t = s.trial;
        out(
          io,
          t
            ? `trial:    ${t.version} (starts ${t.starts}, probation ${t.probationSec}s, deadline ${t.deadlineSec}s${report?.version === t.version && report.readyAt ? `, READY at ${report.readyAt}` : ''})`
            : 'trial:    none',
        );
        out(io, 'history:');
        for (const h of s.history.slice(-20))
          out(
            io,
            `  ${h.at} ${h.event} ${h.version}${h.from ? ` (from ${h.from})` : ''}${h.reason ? `: ${h.reason}` : ''}`,
          );
      }
      return 0;
    },
  },
  commit: {
    paths: true,
    summary: 'commit the release on trial by hand',
    usage: '[--root DIR]',
    async run(argv, io) {
      const { values } = parse(argv, PATH_OPTIONS);
      return printDecision(io, await commitNow(pathsOf(values), depsFor(io, values)), values.json);
    },
  },
  rollback: {
    paths: true,
    summary: 'roll back to the previous release (and restart unless --no-restart)',
    usage: '[--root DIR] [--reason TEXT] [--no-restart]',
    async run(argv, io) {
      const { values } = parse(argv, {
        ...PATH_OPTIONS,
        reason: { type: 'string' },
        'no-restart': { type: 'boolean' },
      });
      const d = await rollbackNow(
        pathsOf(values),
        values.reason ?? 'rolled back by hand',
        depsFor(io, values),
        !values['no-restart'],
      );
      return printDecision(io, d, values.json);
    },
  },
  package: {
    summary:
      "(Debian maintainer scripts) configure: pin the package's release, run the newer one; remove: drop OTA's files",
    usage: '(configure --version V | remove) [--root DIR] [--json]',
    async run(argv, io) {
      const { values, positionals } = parse(
        argv,
        { ...PATH_OPTIONS, version: { type: 'string' } },
        true,
      );
      const [action, ...extra] = positionals;
      if (extra.length > 0 || (action !== 'configure' && action !== 'remove'))
        throw new OtaError(
          'EDGEFLOW_OTA_USAGE',
          'expected "package configure" or "package remove"',
        );
      if (action === 'remove') {
        await removePackage(pathsOf(values), depsFor(io));
        return 0;
      }
      const d = await configurePackage(
        pathsOf(values),
        need(values.version, '--version'),
        depsFor(io),
      );
      out(io, values.json ? JSON.stringify(d) : `current ${d.current}: ${d.reason}`);
      return 0;
    },
  },
  prestart: {
    paths: true,
    summary: '(systemd ExecStartPre=+) recover, count the trial start, roll back a restarted trial',
    usage: '[--root DIR]',
    async run(argv, io) {
      const { values } = parse(argv, PATH_OPTIONS);
      return printDecision(io, await prestart(pathsOf(values), depsFor(io, values)), values.json);
    },
  },
  poststop: {
    paths: true,
    summary: '(systemd ExecStopPost=+) record why a trial process stopped',
    usage: '[--root DIR]',
    async run(argv, io) {
      const { values } = parse(argv, PATH_OPTIONS);
      const stop = {
        result: io.env.SERVICE_RESULT ?? 'unknown',
        exitCode: io.env.EXIT_CODE ?? '',
        exitStatus: io.env.EXIT_STATUS ?? '',
      };
      return printDecision(
        io,
        await poststop(pathsOf(values), stop, depsFor(io, values)),
        values.json,
      );
    },
  },
  check: {
    paths: true,
    summary: '(timer / OnFailure=) finalise commits, enforce deadlines, roll back a failed trial',
    usage: '[--root DIR] [--service-failed]',
    async run(argv, io) {
      const { values } = parse(argv, { ...PATH_OPTIONS, 'service-failed': { type: 'boolean' } });
      return printDecision(
        io,
        await check(pathsOf(values), depsFor(io), values['service-failed'] ?? false),
        values.json,
      );
    },
  },
};
