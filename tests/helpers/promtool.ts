import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The promtool binary: on PATH, or where scripts/fetch-promtool.sh (run by install-deps.sh) put
 * it. Undefined when neither exists; CI must have it (the caller fails there instead of skipping).
 */
export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  const cache = join(env.EDGEFLOW_CACHE ?? '/var/cache/edgeflow', 'promtool');
  if (!existsSync(cache)) return undefined;
  for (const version of readdirSync(cache).sort().reverse()) {
    const bin = join(cache, version, 'promtool');
    if (existsSync(bin)) return bin;
  }
  return undefined;
}
