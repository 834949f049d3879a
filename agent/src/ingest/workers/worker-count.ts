import { availableParallelism } from 'node:os';
import type { AgentConfig } from '../../config/schema.js';

/** How many ingest workers `auto` means at most (beyond, the log's fsync and the main thread bound). */
export const AUTO_MAX_WORKERS = 4;

/**
 * Whether this Node has `net.Server.listen({ reusePort })` (SO_REUSEPORT): 22.12+ on the 22
 * line, 23.1+ on 23, every later major.
 */
export function hasReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major >= 24) return true;
  if (major === 23) return minor >= 1;
  if (major === 22) return minor >= 12;
  return false;
}

/**
 * The number of ingest workers to start for `ingest.workers` (`auto`: one per core, at most
 * {@link AUTO_MAX_WORKERS}), with the reason when it is fewer than asked.
 */
export function ingestWorkerCount(
  config: Pick<AgentConfig, 'ingest' | 'mqtt'>,
  env: { cores?: number; nodeVersion?: string } = {},
): { count: number; reason?: string } {
  const want =
    config.ingest.workers === 'auto'
      ? Math.min(env.cores ?? availableParallelism(), AUTO_MAX_WORKERS)
      : config.ingest.workers;
  if (want <= 1) return { count: 1 };
  if (!config.mqtt.embedded)
    return {
      count: 1,
      reason: 'mqtt.embedded is false: the external subscriber runs on the main thread',
    };
  const version = env.nodeVersion ?? process.versions.node;
  if (!hasReusePort(version))
    return {
      count: 1,
      reason: `Node ${version} has no SO_REUSEPORT listener (reusePort needs Node 22.12+): one ingest thread`,
    };
  return { count: want };
}
