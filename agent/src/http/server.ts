import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SensorCache } from '../cache/sensor-cache.js';
import { errorBody } from './error-body.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { sensorRoutes } from './routes/sensors.js';
import { gpioRoutes } from './routes/gpio.js';
import { createAuthGuard, gpioGrant, type ApiToken } from './auth.js';
import { readAccessHook, type ReadAccessOptions } from './read-access.js';
import type { HttpsFiles } from './tls.js';
import type { Hal } from '@edgeflow/hal';

export interface HttpDeps {
  log: Logger;
  cache: SensorCache;
  registry: Registry;
  readiness: readonly ReadinessCheck[];
  apiTokens: readonly ApiToken[];
  /** Token names granted GPIO writes (gpio.access.apiTokens); absent or empty: none. */
  gpioTokens?: readonly string[] | undefined;
  /** Absent when the HAL is not running. */
  hal?: Hal | undefined;
  /** The read rule (read-access.ts); absent = reads open (unit tests of single routes). */
  readAccess?: Omit<ReadAccessOptions, 'apiTokens'> | undefined;
  /** Serve HTTPS with these (http.tls); absent = plain HTTP. */
  https?: HttpsFiles | undefined;
}

/**
 * Builds the HTTP API (not yet listening, so tests can use `inject()` with no socket).
 * Every error is a JSON body `{ error: { code, message } }`.
 */
export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    // Per-request lines (info) only when debugging: a scrape every few seconds would flood the
    // journal. Without the cast, pino's Logger generic leaks into every route's type (tsc
    // rejects the routes); the lint rule does not see that inference.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.log.child(
      {},
      { level: deps.log.isLevelEnabled('debug') ? deps.log.level : 'warn' },
    ) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
    // The https overload types the instance over https.Server; every route and hook here only
    // uses what http and https servers share.
  }) as unknown as FastifyInstance;
  if (deps.readAccess !== undefined)
    app.addHook('onRequest', readAccessHook({ ...deps.readAccess, apiTokens: deps.apiTokens }));
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(
        errorBody('EDGEFLOW_HTTP_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
      );
  });
  app.setErrorHandler(
    (err: { statusCode?: number; message: string; code?: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        req.log.error({ event: 'http.error', err }, 'request failed');
        void reply.code(500).send(errorBody('EDGEFLOW_INTERNAL', 'internal error'));
        return;
      }
      void reply.code(status).send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', err.message));
    },
  );
  healthRoutes(app, deps.readiness);
  metricsRoute(app, deps.registry);
  sensorRoutes(app, deps.cache);
  if (deps.hal !== undefined)
    gpioRoutes(app, deps.hal, createAuthGuard(deps.apiTokens, gpioGrant(deps.gpioTokens ?? [])));
  return app;
}
