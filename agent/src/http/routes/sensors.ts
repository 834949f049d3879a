import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SensorCache } from '../../cache/sensor-cache.js';
import { isValidSegment } from '../../ingest/topic.js';
import { errorBody } from '../error-body.js';
import { validate } from '../validate.js';

const listQuery = z.strictObject({
  prefix: z
    .string({ error: 'must be given once, as a string' })
    .max(129, { error: 'must be at most 129 characters' })
    .optional(),
});

/** Read access to the sensor cache. */
export function sensorRoutes(app: FastifyInstance, cache: SensorCache): void {
  app.get('/v1/sensors', async (req, reply) => {
    const q = validate(listQuery, req.query, 'query');
    if (!q.ok) {
      return reply
        .code(400)
        .send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', 'bad query string', q.details));
    }
    const readings = cache.list(q.value.prefix ?? '');
    return { count: readings.length, readings };
  });

  app.get<{ Params: { device: string; sensor: string } }>(
    '/v1/sensors/:device/:sensor',
    async (req, reply) => {
      const { device, sensor } = req.params;
      if (!isValidSegment(device) || !isValidSegment(sensor)) {
        return reply
          .code(400)
          .send(
            errorBody(
              'EDGEFLOW_HTTP_BAD_REQUEST',
              'device and sensor ids must match [A-Za-z0-9_.:-]{1,64}',
            ),
          );
      }
      const key = `${device}/${sensor}`;
      const reading = cache.get(key);
      if (reading === undefined) {
        return reply
          .code(404)
          .send(errorBody('EDGEFLOW_SENSOR_NOT_FOUND', `no reading for sensor ${key} yet`));
      }
      return reading;
    },
  );
}
