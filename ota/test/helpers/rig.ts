import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import type { OtaDeps } from '../../src/deps.js';
import { otaPaths } from '../../src/paths.js';
import type { OtaPaths } from '../../src/paths.js';
import type { InstallOptions } from '../../src/install.js';
import { agentStateDir, asAgent } from './agent-uid.js';
import { makeKeys, tempDir } from './releases.js';

/** A temp OTA root with config/cache dirs, trusted keys and deps with a fake clock. */
export interface LocalRig {
  dir: string;
  paths: OtaPaths;
  privatePem: string;
  keysDir: string;
  deps: OtaDeps & { restarts: number; clock: { ms: number } };
  opts(source: string, extra?: Partial<InstallOptions>): InstallOptions;
}

export async function localRig(): Promise<LocalRig> {
  const dir = await tempDir();
  const keys = await makeKeys(dir);
  const paths = otaPaths({
    root: join(dir, 'root'),
    configDir: join(dir, 'etc'),
    cacheDir: join(dir, 'cache'),
    reportFile: join(dir, 'agent-state', 'ota-trial.json'),
  });
  await mkdir(paths.configDir, { recursive: true });
  await writeFile(join(paths.configDir, 'edgeflow.yaml'), 'release: one\n');
  await mkdir(paths.cacheDir, { recursive: true });
  await writeFile(join(paths.cacheDir, 'snapshot.bin'), 'cache-one');
  const clock = { ms: Date.parse('2025-06-01T00:00:00Z') };
  const deps = {
    now: () => new Date(clock.ms),
    freeBytes: () => Promise.resolve(10 * 1024 ** 3),
    restartService: () => {
      deps.restarts++;
      return Promise.resolve();
    },
    checkpoint: () => Promise.resolve(),
    log: pino({ level: 'silent' }),
    restarts: 0,
    clock,
  };
  return {
    dir,
    paths,
    privatePem: keys.privatePem,
    keysDir: keys.keysDir,
    deps,
    opts: (source, extra = {}) => ({
      source,
      keysDir: keys.keysDir,
      board: 'test-board',
      deviceId: 'dev-1',
      noRestart: true,
      probationSec: 60,
      deadlineSec: 600,
      ...extra,
    }),
  };
}

/**
 * A local rig whose cache and trial report live in a state directory owned by the (simulated)
 * agent uid, as under systemd's StateDirectory= with DynamicUser=: the agent can create, replace
 * and rename anything in it. Needs root (see agent-uid.ts).
 */
export async function agentRig(): Promise<LocalRig & { agentDir: string }> {
  const r = await localRig();
  const agentDir = join(r.dir, 'agent-state');
  const paths = otaPaths({
    root: r.paths.root,
    configDir: r.paths.configDir,
    cacheDir: join(agentDir, 'cache'),
    reportFile: join(agentDir, 'ota-trial.json'),
  });
  await agentStateDir(agentDir, [r.dir]);
  asAgent(
    `import { mkdir, writeFile } from 'node:fs/promises';
     await mkdir(${JSON.stringify(paths.cacheDir)});
     await writeFile(${JSON.stringify(join(paths.cacheDir, 'snapshot.bin'))}, 'cache-one');`,
  );
  return { ...r, paths, agentDir };
}
