import { stat } from 'node:fs/promises';
import { AgentError } from '../errors.js';
import type { AgentConfig } from './schema.js';

/** How a path is looked at (node:fs/promises' stat in production). */
export type StatDir = (path: string) => Promise<{ isDirectory(): boolean }>;

/**
 * Checks the schema cannot make because they look at the host. A `hal.root` that does not exist
 * is refused: the HAL would find no board under it and run the generic profile, a silent
 * "no hardware" instead of the typo it is. The default root `/` and the simulator board
 * (`hal.board: sim`, which reads no host path) are not checked.
 */
export async function checkHostPaths(
  config: AgentConfig,
  origin: string,
  origins: Map<string, string>,
  statDir: StatDir = stat,
): Promise<void> {
  const { root, board } = config.hal;
  if (board === 'sim' || root === '/') return;
  const why = await statDir(root).then(
    (s) => (s.isDirectory() ? undefined : 'is not a directory'),
    (err: NodeJS.ErrnoException) => `does not exist or cannot be read (${err.code ?? 'error'})`,
  );
  if (why === undefined) return;
  const from = origins.get('hal.root');
  const line = `hal.root${from ? ` (from ${from})` : ''}: ${root} ${why}: no board could be detected under it; fix the path or leave hal.root out (default /)`;
  throw new AgentError('EDGEFLOW_CONFIG_INVALID', `${origin}: 1 problem:\n  ${line}`, {
    details: [line],
  });
}
