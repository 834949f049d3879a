import { spawnSync } from 'node:child_process';
import { readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EdgeflowRunner } from '../agent/edgeflow-cli.js';
import { OTA_ROOT, probeServing, unitServes, type ServingProbe } from '../agent/serving.js';
import { buildDrillBundles } from './drill-bundles.js';
import type {
  DeviceView,
  DrillStep,
  OtaStatus,
  SystemdDrillRaw,
  TrialOutcome,
  TrialRun,
} from './drill-types.js';

/** The OTA tool the shipped units run (docs/ota.md "On-disk layout": not part of any release). */
export const DEVICE_OTA_TOOL = `${OTA_ROOT}/tool/bin/edgeflow-ota`;

/** The drill's bundles: the operator's pair, or a key to re-sign the running release with. */
export type DrillInput =
  | { readonly kind: 'key'; readonly keyFile: string }
  | { readonly kind: 'bundles'; readonly good: string; readonly bad: string };

/** What the real drill needs from the run (injected: the system test drives the real thing). */
export interface SystemdDrillDeps {
  /** The agent's unit (--journal-unit). */
  readonly unit: string;
  readonly url: string;
  readonly healthy: () => Promise<boolean>;
  /** The device's OTA tool (`edgeflow-ota …`, args without "ota"). */
  readonly tool: EdgeflowRunner;
  readonly toolPath: string;
  /** The board id passed to `install --board` (the suite's detected board). */
  readonly board: string;
  /** Scratch space for built bundles; removed after the drill. */
  readonly workDir: string;
  readonly input: DrillInput;
  readonly probationSec: number;
  readonly rollbackLimitSec: number;
  readonly probe?: () => Promise<ServingProbe>;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Slack past the install deadline: `edgeflow-ota-check.timer` enforces it once a minute. */
const TIMER_SLACK_SEC = 90;
/** How long the agent may take to serve again once the state says where it should run. */
const SERVE_WAIT_SEC = 180;
/** How long one process may serve another release before the drill calls it the wrong one. */
const WRONG_RELEASE_SEC = 10;
const JOURNAL_LINES = 200;

/** Mutable while the drill runs; recorded as {@link SystemdDrillRaw}. */
type Draft = { -readonly [K in keyof SystemdDrillRaw]: SystemdDrillRaw[K] } & {
  steps: DrillStep[];
  cleanup: string[];
};

/**
 * The real drill: the agent under test, run by systemd, is updated to a good release (its trial
 * watched until the commit), then to a failing one (watched until the automatic rollback, whose
 * time is measured until the unit's main process serves again). Everything goes through the
 * device's own OTA tool, as an operator's install would. The device is never left on a trial or
 * on the failing release: whatever the drill's outcome, it rolls back by hand at the end.
 */
export async function systemdDrill(d: SystemdDrillDeps): Promise<SystemdDrillRaw> {
  const sleep = d.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const probe = d.probe ?? (() => probeServing(d.unit, d.url, d.healthy));
  const raw: Draft = {
    mode: 'systemd',
    unit: d.unit,
    url: d.url,
    tool: d.toolPath,
    source: d.input.kind,
    probationSec: d.probationSec,
    startedAt: Date.now(),
    before: null,
    good: null,
    bad: null,
    after: null,
    history: [],
    journal: [],
    steps: [],
    cleanup: [],
    error: null,
  };
  const tool = async (args: string[], mustPass = true) => {
    const r = await d.tool(args, { timeoutMs: 600_000 });
    const tail = (s: string) => s.trim().split('\n').slice(-3).join('\n').slice(-400);
    raw.steps.push({
      cmd: `edgeflow-ota ${args.join(' ')}`,
      code: r.code,
      ms: r.ms,
      out: r.code === 0 ? tail(r.stdout) : tail(r.stderr),
    });
    if (mustPass && r.code !== 0)
      throw new Error(`edgeflow-ota ${args[0] ?? ''} exited ${String(r.code)}: ${tail(r.stderr)}`);
    return r;
  };
  // `status` also finalises a commit the agent reported (docs/ota.md "States").
  const status = async (): Promise<OtaStatus> =>
    JSON.parse((await tool(['status', '--json'])).stdout) as OtaStatus;
  const view = async (s: OtaStatus): Promise<DeviceView> => ({
    current: s.current,
    previous: s.previous,
    trial: s.trial?.version ?? null,
    link: await readlink(join(OTA_ROOT, 'current')).catch(() => null),
    serving: await probe(),
  });
  const w: Watch = { d, tool, status, probe, sleep };
  try {
    if (process.getuid?.() !== 0)
      throw new Error(
        'the real drill installs releases under /opt/edgeflow and restarts the unit: run the suite as root',
      );
    const s0 = await status();
    if (s0.trial)
      throw new Error(
        `release ${s0.trial.version} is on trial: the drill starts from a committed release (wait for the trial to end)`,
      );
    if (!s0.current) throw new Error(`${OTA_ROOT} has no current release (edgeflow ota status)`);
    raw.before = await view(s0);
    const pair = await drillPair(d, s0.current, tool);
    for (const b of [pair.good, pair.bad])
      await tool(['verify', b.file, '--keys', `${OTA_ROOT}/keys`, '--json']);
    raw.good = await trialRun(w, 'good', pair.good, s0.current);
    if (raw.good.outcome === 'committed')
      raw.bad = await trialRun(w, 'bad', pair.bad, pair.good.version);
  } catch (e) {
    raw.error = (e as Error).message;
  } finally {
    await restore(w, raw).catch((e: unknown) =>
      raw.cleanup.push(`restoring the device failed: ${(e as Error).message}`),
    );
    await rm(d.workDir, { recursive: true, force: true });
    raw.journal = unitJournal(d.unit, raw.startedAt);
  }
  return raw;
}

/** The drill's two bundles, with their versions. */
async function drillPair(
  d: SystemdDrillDeps,
  current: string,
  tool: (args: string[]) => Promise<{ stdout: string }>,
): Promise<{ good: { file: string; version: string }; bad: { file: string; version: string } }> {
  if (d.input.kind === 'key') {
    const b = await buildDrillBundles({
      from: join(OTA_ROOT, 'current'),
      keyPem: await readFile(d.input.keyFile, 'utf8'),
      outDir: d.workDir,
      current,
      stamp: Date.now() / 1000,
    });
    return { good: b.good, bad: b.bad };
  }
  const version = async (file: string) =>
    (
      JSON.parse((await tool(['inspect', file, '--json'])).stdout) as {
        manifest: { version: string };
      }
    ).manifest.version;
  return {
    good: { file: d.input.good, version: await version(d.input.good) },
    bad: { file: d.input.bad, version: await version(d.input.bad) },
  };
}

interface Watch {
  readonly d: SystemdDrillDeps;
  readonly tool: (
    args: string[],
    mustPass?: boolean,
  ) => Promise<{ code: number | null; stderr: string }>;
  readonly status: () => Promise<OtaStatus>;
  readonly probe: () => Promise<ServingProbe>;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Installs one drill release and watches its trial to its end, then the agent serving again. */
async function trialRun(
  w: Watch,
  role: 'good' | 'bad',
  b: { file: string; version: string },
  back: string,
): Promise<TrialRun> {
  const { d } = w;
  const deadline = d.probationSec + 180;
  const installStartedAt = Date.now();
  const r = await w.tool(
    [
      'install',
      b.file,
      '--board',
      d.board,
      '--probation',
      String(d.probationSec),
      '--deadline',
      String(deadline),
      // Drill versions sort below the running one (drill-bundles.ts); a drill is a manual install.
      '--allow-downgrade',
      '--ignore-rollout',
    ],
    false,
  );
  const base = { role, version: b.version, installStartedAt };
  if (r.code !== 0)
    return {
      ...base,
      installedAt: null,
      outcome: 'install-failed',
      outcomeSeenAt: null,
      reason: r.stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? null,
      expect: null,
      serving: null,
      servingAt: null,
    };
  const installedAt = Date.now();
  // The good release commits after its probation (or is rolled back at its deadline at the
  // latest); the failing one must roll back well within the limit: waiting twice as long lets a
  // slow rollback be measured rather than reported as missing.
  const boundSec =
    role === 'good' ? deadline + TIMER_SLACK_SEC : Math.max(2 * d.rollbackLimitSec, 60);
  let outcome: TrialOutcome = 'on-trial';
  let outcomeSeenAt: number | null = null;
  let reason: string | null = null;
  while (Date.now() < installedAt + boundSec * 1000) {
    const s = await w.status();
    const h = s.history.find(
      (e) =>
        e.version === b.version &&
        (e.event === 'committed' || e.event === 'rolled-back') &&
        Date.parse(e.at) >= installStartedAt - 1000,
    );
    if (h) {
      outcome = h.event as TrialOutcome;
      outcomeSeenAt = Date.now();
      reason = h.reason ?? null;
      break;
    }
    await w.sleep(1000);
  }
  const expect = outcome === 'committed' ? b.version : outcome === 'rolled-back' ? back : null;
  const served = expect === null ? null : await waitServing(w, expect);
  return {
    ...base,
    installedAt,
    outcome,
    outcomeSeenAt,
    reason,
    expect,
    serving: served?.probe ?? null,
    servingAt: served?.ok ? served.probe.at : null,
  };
}

/**
 * Polls until the unit's main process serves the URL from release `expect`. Gives up after
 * {@link SERVE_WAIT_SEC}, or once one main process has served another release for
 * {@link WRONG_RELEASE_SEC} (a rollback by the check timer restarts the agent a moment after
 * it records the rollback; a process that keeps serving another release is not that moment).
 */
async function waitServing(
  w: Watch,
  expect: string,
): Promise<{ ok: boolean; probe: ServingProbe }> {
  const until = Date.now() + SERVE_WAIT_SEC * 1000;
  let wrong: { pid: number; since: number } | undefined;
  for (;;) {
    const p = await w.probe();
    if (unitServes(p) && p.release === expect) return { ok: true, probe: p };
    if (!unitServes(p)) wrong = undefined;
    else if (wrong?.pid !== p.pid) wrong = { pid: p.pid ?? 0, since: p.at };
    else if (p.at - wrong.since >= WRONG_RELEASE_SEC * 1000) return { ok: false, probe: p };
    if (Date.now() > until) return { ok: false, probe: p };
    await w.sleep(500);
  }
}

/**
 * Never leave the device on a trial or on the failing release: roll back by hand what the drill
 * installed and the OTA trial did not undo, then record where the device ended.
 */
async function restore(w: Watch, raw: Draft): Promise<void> {
  let s = await w.status();
  const badVersion = raw.bad?.version;
  const drillTrial = s.trial && [raw.good?.version, badVersion].includes(s.trial.version);
  if (drillTrial || (badVersion !== undefined && s.current === badVersion)) {
    const from = s.current ?? '?';
    const r = await w.tool(['rollback'], false);
    raw.cleanup.push(
      r.code === 0
        ? `rolled back ${from} by hand (edgeflow-ota rollback)`
        : `edgeflow-ota rollback of ${from} failed: ${r.stderr.trim().split('\n').at(-1) ?? ''}`,
    );
    s = await w.status();
    if (s.current) await waitServing(w, s.current);
  }
  raw.history = s.history.filter((e) => Date.parse(e.at) >= raw.startedAt - 1000);
  raw.after = {
    current: s.current,
    previous: s.previous,
    trial: s.trial?.version ?? null,
    link: await readlink(join(OTA_ROOT, 'current')).catch(() => null),
    serving: await w.probe(),
  };
}

/** What the unit's journal says during the drill: systemd, the OTA hooks, agent starts/stops. */
function unitJournal(unit: string, sinceMs: number): string[] {
  const r = spawnSync(
    'journalctl',
    ['-u', unit, '--since', `@${Math.floor(sinceMs / 1000)}`, '-o', 'short-iso', '--no-pager'],
    { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error || r.status !== 0)
    return [`journalctl failed: ${r.error?.message ?? r.stderr.trim()}`];
  const keep =
    /systemd\[1\]|edgeflow-ota|"event":"(agent\.(listening|stopped)|ota\.[a-z_.-]+)"|fails on purpose/;
  return r.stdout
    .split('\n')
    .filter((l) => keep.test(l))
    .slice(-JOURNAL_LINES)
    .map((l) => l.slice(0, 300));
}
