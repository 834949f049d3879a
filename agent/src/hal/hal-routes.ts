import type { FastifyInstance } from 'fastify';
import type { HttpPlugin } from '../lifecycle/parts/http.js';
import type { HalSource } from './hal-source.js';

/**
 * GET /v1/hal/sensors: every sensor the HAL is configured to poll, with its state (pending,
 * ok, failing with the HAL error) and whether it is simulated. Read-only, like GET /v1/gpio.
 */
export function halStatusRoutes(app: FastifyInstance, hal: () => HalSource | undefined): void {
  app.get('/v1/hal/sensors', () => {
    const h = hal();
    return h
      ? { running: true, ...h.status.report() }
      : { running: false, board: null, simulated: false, sensors: [] };
  });
}

/** GET /v1/hal/sensors on the agent's listener (agent-parts.ts). */
export const halStatusHttp: HttpPlugin = {
  name: 'hal-status',
  register(app, { units }) {
    halStatusRoutes(app, () => units.hal);
    return Promise.resolve();
  },
};
