import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SensorCache } from '../../cache/sensor-cache.js';
import { isValidSegment } from '../../ingest/topic.js';
import { errorBody } from '../error-body.js';
import { validate } from '../validate.js';

/** Readings per page of `GET /v1/sensors` at most, and by default. */
export const SENSORS_PAGE_MAX = 5000;
export const SENSORS_PAGE_DEFAULT = 1000;

const limitError = `must be an integer 1-${SENSORS_PAGE_MAX}`;
const listQuery = z.strictObject({
  prefix: z
    .string({ error: 'must be given once, as a string' })
    .max(129, { error: 'must be at most 129 characters' })
    .optional(),
  after: z
    .string({ error: 'must be given once, as a string (the `next` of the previous page)' })
    .max(129, { error: 'must be at most 129 characters' })
    .optional(),
  limit: z
    .string({ error: limitError })
    .regex(/^[0-9]{1,5}$/, { error: limitError })
    .transform(Number)
    .refine((n) => n >= 1 && n <= SENSORS_PAGE_MAX, { error: limitError })
    .optional(),
});

/**
 * Read access to the sensor cache. The list is paged (key order, `after` = the previous page's
 * `next`), so that one answer stays bounded whatever the cache holds (cache.capacity goes to
 * ten million sensors).
 */
export function sensorRoutes(app: FastifyInstance, cache: SensorCache): void {
  app.get('/v1/sensors', async (req, reply) => {
    const q = validate(listQuery, req.query, 'query');
    if (!q.ok) {
      return reply
        .code(400)
        .send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', 'bad query string', q.details));
    }
    const { prefix = '', after, limit = SENSORS_PAGE_DEFAULT } = q.value;
    const page = cache.page(prefix, after, limit);
    const last = page.readings.at(-1);
    return {
      count: page.readings.length,
      total: page.total,
      readings: page.readings,
      ...(page.more && last !== undefined ? { next: last.key } : {}),
    };
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
