import { isShellPath } from './console/static-assets.js';

/**
 * Paths every reader may GET whatever the read rule: liveness and readiness (probes carry no
 * token and reveal nothing) and the console's static shell (its data comes from /v1, which
 * the rule covers).
 */
export function isPublicPath(path: string): boolean {
  return path === '/healthz' || path === '/readyz' || isShellPath(path);
}
