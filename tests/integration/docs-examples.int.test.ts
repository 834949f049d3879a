import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, inRollout } from '@edgeflow/ota';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { docCommands, flagsOf, isSynopsis, type DocCommand } from '../helpers/doc-examples.js';

/**
 * Every shell example in README.md and docs/*.md stays true: each command is either run here
 * (in a scratch directory, against scratch roots, with only the changes its rule states), or
 * skipped with the reason it cannot run here, printed. Every `edgeflow`/`edgeready` line, run
 * or not, may only use options its command's --help lists. A new example with no rule fails.
 */

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Ctx {
  dir: string;
  vars: Record<string, string>;
}

interface Rule {
  match: RegExp;
  /** Why it cannot run here (printed as the subtest's skip reason). */
  skip?: string;
  /** How it runs here: the text changes applied (none by default), then the expectation. */
  replace?: (text: string, ctx: Ctx) => string;
  expect?: RegExp;
}

/** The scratch boot root instead of `/`: replaces a `--boot-root /` the example has, else appends. */
const withRoot = (text: string, ctx: Ctx): string =>
  / --boot-root \/(\s|$)/.test(text)
    ? text.replace(/ --boot-root \/(?=\s|$)/, ` --boot-root ${ctx.vars.ROOT}`)
    : `${text} --boot-root ${ctx.vars.ROOT}`;

/** A Raspberry Pi 5 boot partition (the device-trees fixture), changed instead of /. */
const piRoot = (ctx: Ctx): Promise<void> => {
  ctx.vars.ROOT = join(ctx.dir, 'pi5');
  cpSync(join(repo, 'device-trees/test/fixtures/roots/rpi5'), ctx.vars.ROOT, { recursive: true });
  return Promise.resolve();
};

/**
 * A release tree as a device runs it (`/opt/edgeflow/current`): its bin/edgeflow launches this
 * repository's agent, as devInstall's test releases do.
 */
const releaseTree = (ctx: Ctx): void => {
  const rel = join(ctx.dir, 'release');
  mkdirSync(join(rel, 'bin'), { recursive: true });
  writeFileSync(
    join(rel, 'bin', 'edgeflow'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(repo, 'agent/dist/src/cli.js')}" "$@"\n`,
  );
  chmodSync(join(rel, 'bin', 'edgeflow'), 0o755);
  mkdirSync(join(rel, 'agent'), { recursive: true });
  writeFileSync(join(rel, 'agent', 'cli.js'), 'console.log("release 1.4.0")\n');
};

/** The device's own paths (`/root`, `/etc/edgeflow`) under the scratch device root. */
const onDevice = (text: string, ctx: Ctx): string =>
  text
    .replaceAll('/root/', `${join(ctx.dir, 'device/root')}/`)
    .replaceAll('/etc/edgeflow/', `${join(ctx.dir, 'device/etc/edgeflow')}/`);

/** The README's agent on free ports: the quick checks of README.md and docs/install.md. */
const agentFor = async (ctx: Ctx): Promise<() => Promise<void>> => {
  const agent: AgentProcess = await startAgent({ dataDir: join(ctx.dir, 'data') });
  ctx.vars.MQTT = String(agent.mqttPort);
  ctx.vars.HTTP = String(agent.httpPort);
  return async () => void (await agent.stop());
};

/** A device id inside the example bundle's 25 % rollout (the bucket is sha256 of name:id). */
const IN_ROLLOUT = Array.from({ length: 100 }, (_, i) => `docs-${i}`).find((id) =>
  inRollout('edgeflow', id, 25),
);

const RULES: readonly Rule[] = [
  {
    match: /^npm ci && npm start$/,
    skip: 'runs the agent in the foreground on the fixed ports 1883/8080; the README checks below run against the same agent on free ports',
  },
  { match: /^npm run test:ci$/, skip: 'is the CI run itself' },
  { match: /^npm ci$/, skip: "is CI's own install step (scripts/test-ci.sh, on a fresh clone)" },
  {
    match: /^npm run package -- --arch (arm64|amd64)( --version \d+\.\d+\.\d+)?$/,
    skip: 'builds a .deb (cross compilers, lintian; minutes): scripts/test-ci.sh runs exactly this with EDGEFLOW_PACKAGE_TESTS=1, and tests/system/package-{amd64,arm64}.sys.test.ts install what it built',
  },
  {
    match: /^systemctl status edgeflow-agent$/,
    skip: 'needs the installed package under systemd: tests/system/package-amd64.sys.test.ts installs the .deb and checks the unit is active (tests/system/agent-service.sys.test.ts runs the shipped unit in nspawn)',
  },
  { match: /^edgeflow --help$/, expect: /^Usage: edgeflow <command>/m },
  {
    match: /^mosquitto_pub /,
    replace: (t, c) => t.replace(/^mosquitto_pub /, `mosquitto_pub -p ${c.vars.MQTT} `),
  },
  {
    match: /^curl -s 127\.0\.0\.1:8080\/v1\/sensors\//,
    replace: (t, c) => t.replace('127.0.0.1:8080', `127.0.0.1:${c.vars.HTTP}`),
    expect: /"key":"dev1\/temp","value":21\.5/,
  },
  {
    match: /^curl -s 127\.0\.0\.1:8080\/metrics/,
    replace: (t, c) => t.replace('127.0.0.1:8080', `127.0.0.1:${c.vars.HTTP}`),
    expect: /^edgeflow_ingest_messages_total\{source="mqtt"\} 1$/m,
  },
  {
    match: /^edgeflow attest /,
    skip: 'needs an agent with a TPM and an enrolment (node-tpm2 integration tier runs these against swtpm)',
  },
  { match: /^(openssl|printf) / },
  {
    match: /^journalctl -u edgeflow-agent -p warning/,
    skip: 'needs the agent under systemd: tests/system/agent-service.sys.test.ts runs it in nspawn',
  },
  { match: /^edgeflow agent /, skip: 'runs the agent in the foreground until stopped' },
  { match: /^edgeflow hal .*--board sim/ },
  { match: /^edgeflow dt /, replace: withRoot },
  {
    match: /^edgeready run .*--duration 72h/,
    skip: 'a 72-hour run on a board with the agent under systemd',
  },
  {
    match: /^edgeready run .*--duration 2m/,
    skip: "a 2-minute stress run with swtpm: edgeready-suite's stress test runs exactly this",
  },
  {
    match: /^edgeready resume /,
    skip: "needs an interrupted run: edgeready-suite's resume test",
  },
  {
    match: /^(cp systemd\/mosquitto\/|systemctl restart mosquitto)/,
    skip: "changes the host's mosquitto: tests/integration/mosquitto-conf.int.test.ts starts mosquitto with this very layout",
  },
  {
    // The drill pair from the release tree (PREPARE), signed with the doc's key, then verified
    // against that key's public half as the device does (it trusts the .pub beside the .key).
    match:
      /^edgeready ota-drill-bundles --from \.\/release --version 1\.4\.0 --key \S+ --out drill\/$/,
    replace: (t) =>
      `${t} && for b in drill/*.tar.gz; do edgeflow ota verify "$b" --keys ${dirname(/--key (\S+)/.exec(t)?.[1] ?? '')}; done`,
    expect:
      /^good: \S+\/drill\/edgeflow-1\.4\.0-edgeready\.\d+\.1\.tar\.gz [\s\S]*^ok: edgeflow 1\.4\.0-edgeready\.\d+\.1 signed by [\s\S]*^ok: edgeflow 1\.4\.0-edgeready\.\d+\.2 signed by /m,
  },
  {
    // The drill key made and trusted on the device: its /root and /etc/edgeflow are scratch.
    match:
      /^(edgeflow ota keygen --out \/root\/drill |cp \/root\/drill\/drill\.pub \/etc\/edgeflow\/keys\/$)/,
    replace: onDevice,
  },
  {
    match: /^edgeflow ota (keygen|build|sign|verify|inspect) /,
    // The device's keys directory is the one keygen just filled.
    replace: (t) => t.replace('/opt/edgeflow/keys', '~/ota-keys'),
  },
  {
    // On a device it installs into /opt/edgeflow and restarts the agent: here into a scratch
    // system root (board rpi5: this host has no device tree), without the restart.
    match: /^edgeflow ota install edgeflow-1\.4\.0\.tar\.gz( |$)/,
    replace: (t, c) =>
      (t.includes('--root /mnt/image')
        ? t.replace('/mnt/image', join(c.dir, 'image'))
        : `${t} --root ${join(c.dir, 'device/opt/edgeflow')} --board rpi5 --no-restart`
      ).concat(` --keys ~/ota-keys --device-id ${IN_ROLLOUT}`),
    expect: /^installed 1\.4\.0 \(from nothing\)/m,
  },
];

/** Per document: what its examples need (scratch roots, a running agent). */
const PREPARE: Record<string, (ctx: Ctx) => Promise<(() => Promise<void>) | void>> = {
  'README.md': agentFor,
  'docs/install.md': agentFor,
  'docs/device-trees.md': piRoot,
  'docs/cli.md': piRoot,
  'docs/ota.md': (ctx) => {
    releaseTree(ctx);
    mkdirSync(join(ctx.dir, 'device/etc/edgeflow/keys'), { recursive: true });
    return Promise.resolve();
  },
  'docs/edgeready.md': (ctx) => {
    releaseTree(ctx);
    const k = generateKeyPair();
    writeFileSync(join(ctx.dir, 'fleet.key'), k.privatePem, { mode: 0o600 });
    writeFileSync(join(ctx.dir, 'fleet.pub'), k.publicPem);
    return Promise.resolve();
  },
};

/** `edgeflow` and `edgeready` on PATH, as an installed gateway has them. */
function binDir(): string {
  const bin = mkdtempSync(join(tmpdir(), 'ef-docs-bin-'));
  for (const [name, cli] of [
    ['edgeflow', 'agent/dist/src/cli.js'],
    ['edgeready', 'edgeready-suite/dist/src/cli.js'],
  ] as const) {
    writeFileSync(
      join(bin, name),
      `#!/bin/sh\nexec "${process.execPath}" "${join(repo, cli)}" "$@"\n`,
    );
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

function sh(text: string, cwd: string, bin: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', text], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, HOME: join(cwd, 'home'), PATH: `${bin}:${process.env.PATH ?? ''}` },
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `edgeflow ota install URL …` → `edgeflow ota install --help`: the tool and up to two command words. */
function helpCommand(text: string): string {
  const words = text.split(/\s+/);
  const cmd = [words[0] as string];
  for (const w of words.slice(1, 3)) {
    if (!/^[a-z][a-z0-9-]*$/.test(w)) break;
    cmd.push(w);
  }
  return `${cmd.join(' ')} --help`;
}

const docs = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

const bin = binDir();

for (const doc of docs) {
  const commands: DocCommand[] = docCommands(join(repo, doc), doc);
  if (commands.length === 0) continue;
  test(`shell examples of ${doc}`, async (t) => {
    const ctx: Ctx = { dir: mkdtempSync(join(tmpdir(), 'ef-docs-')), vars: {} };
    mkdirSync(join(ctx.dir, 'home'));
    const teardown = await PREPARE[doc]?.(ctx);
    try {
      for (const c of commands) {
        await t.test(`${c.where}: ${c.text}`, (st) => {
          if (/^(edgeflow|edgeready) /.test(c.text)) {
            const help = sh(helpCommand(c.text), ctx.dir, bin);
            assert.equal(help.status, 0, `${helpCommand(c.text)}: ${help.out}`);
            for (const flag of flagsOf(c.text)) {
              assert.ok(help.out.includes(flag), `${flag} is not in ${helpCommand(c.text)}`);
            }
          }
          if (isSynopsis(c.text)) {
            st.diagnostic('synopsis: options checked against --help');
            return;
          }
          const rule = RULES.find((r) => r.match.test(c.text));
          assert.ok(rule, `no rule says how to run or why to skip ${c.where}: ${c.text}`);
          if (rule.skip !== undefined) {
            st.skip(rule.skip);
            return;
          }
          const run = rule.replace ? rule.replace(c.text, ctx) : c.text;
          if (run !== c.text) st.diagnostic(`run here as: ${run}`);
          const r = sh(run, ctx.dir, bin);
          assert.equal(r.status, 0, `${run}\n${r.out}`);
          if (rule.expect) assert.match(r.out, rule.expect, run);
        });
      }
    } finally {
      await teardown?.();
    }
  });
}
