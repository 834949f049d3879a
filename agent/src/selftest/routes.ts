import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { accessGrant, createAuthGuard } from '../http/auth.js';
import { errorBody } from '../http/error-body.js';
import type { HttpPlugin } from '../lifecycle/parts/http.js';
import { READING_RECORD } from '../cache/reading-record.js';
import { INTERNAL_KEY_PREFIX } from '../cache/sensor-cache.js';
import { runSharedMapSelfTest } from './shared-map-selftest.js';

/** What the cache self-test needs from the agent's cache: its shared map, when it has one. */
export interface SelfTestDeps {
  /**
   * Runs the worker self-test against the cache's SharedShardedMap and returns its report, or
   * undefined when the cache is not shared (an agent before the shared cache: 409).
   */
  readonly sharedMapSelfTest: () => Promise<Record<string, unknown>> | undefined;
}

/**
 * POST /v1/selftest/shared-map (a token in selftest.access.apiTokens): the agent exercises its own shared cache with
 * worker threads and reports lost updates, CAS sums, torn reads and a seqlock probe. EdgeReady's
 * ER-MAP-WORKERS judges this report: a SharedArrayBuffer cannot be reached from another process.
 * An agent whose cache is not shared answers 409 EDGEFLOW_SELFTEST_UNSUPPORTED.
 */
export function selfTestRoutes(
  app: FastifyInstance,
  requireToken: preHandlerAsyncHookHandler,
  deps: SelfTestDeps,
): void {
  app.post('/v1/selftest/shared-map', { preHandler: requireToken }, async (_req, reply) => {
    const run = deps.sharedMapSelfTest();
    if (run === undefined)
      return reply
        .code(409)
        .send(
          errorBody(
            'EDGEFLOW_SELFTEST_UNSUPPORTED',
            'the sensor cache is a ShardedMap owned by the main thread, not a SharedShardedMap shared with worker threads: there is no shared map to test',
          ),
        );
    return run;
  });
}

/**
 * The self-test on the agent's listener (agent-parts.ts), against the sensor cache's own
 * SharedShardedMap (the one the ingest workers write), on keys under the cache's internal
 * prefix, which are never listed, snapshotted or logged, and are deleted when the test ends.
 * One run at a time.
 */
export const selfTestHttp: HttpPlugin = {
  name: 'selftest',
  register(app, { config, cache }) {
    const grant = accessGrant('selftest', config.selftest.access.apiTokens);
    let running: Promise<Record<string, unknown>> | undefined;
    selfTestRoutes(app, createAuthGuard(config.http.apiTokens, grant), {
      sharedMapSelfTest: () => {
        running ??= runSharedMapSelfTest({
          map: cache.map,
          layout: READING_RECORD,
          prefix: `${INTERNAL_KEY_PREFIX}selftest/`,
        })
          .then((r) => ({ ...r }))
          .finally(() => (running = undefined));
        return running;
      },
    });
    return Promise.resolve();
  },
};
