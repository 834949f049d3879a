import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** `/metrics` in the Prometheus text format. */
export function metricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
