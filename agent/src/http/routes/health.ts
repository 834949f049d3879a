import type { FastifyInstance } from 'fastify';

export interface ReadinessCheck {
  name: string;
  ok: () => boolean;
}

/** `/healthz`: the process is alive and serving. `/readyz`: every readiness check holds. */
export function healthRoutes(app: FastifyInstance, checks: readonly ReadinessCheck[]): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = Object.fromEntries(checks.map((c) => [c.name, c.ok()]));
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks: results });
  });
}
