import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { isHalError, type Hal } from '@edgeflow/hal';
import { z } from 'zod';
import { errorBody } from '../error-body.js';
import { validate } from '../validate.js';

const setBody = z.strictObject({
  value: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' }),
});

/** GPIO lines declared in `hal.gpio`: read by anyone who can reach the API, set only with a token. */
export function gpioRoutes(
  app: FastifyInstance,
  hal: Hal,
  requireToken: preHandlerAsyncHookHandler,
): void {
  app.get('/v1/gpio', () => ({ board: hal.board.profile.id, lines: hal.gpio() }));

  app.put<{ Params: { name: string } }>(
    '/v1/gpio/:name',
    { preHandler: requireToken },
    async (req, reply) => {
      const body = validate(setBody, req.body ?? {}, 'body');
      if (!body.ok) {
        return reply
          .code(400)
          .send(errorBody('EDGEFLOW_HTTP_BAD_REQUEST', 'bad request body', body.details));
      }
      const name = req.params.name;
      const line = hal.gpio().find((l) => l.name === name);
      if (line === undefined) {
        return reply
          .code(404)
          .send(
            errorBody(
              'EDGEFLOW_GPIO_NOT_FOUND',
              `no GPIO line named ${JSON.stringify(name)} in hal.gpio`,
            ),
          );
      }
      if (line.direction !== 'output') {
        return reply
          .code(409)
          .send(errorBody('EDGEFLOW_GPIO_NOT_OUTPUT', `GPIO line ${name} is an input`));
      }
      try {
        await hal.setOutput(name, body.value.value);
      } catch (err) {
        if (isHalError(err, 'EDGEFLOW_HAL_LINE_UNAVAILABLE')) {
          // Pending: the HAL requests the line again after retryInMs; failed: it does not.
          if (line.retryInMs !== undefined)
            void reply.header('retry-after', String(Math.max(1, Math.ceil(line.retryInMs / 1000))));
          return reply.code(503).send(errorBody('EDGEFLOW_GPIO_UNAVAILABLE', err.message));
        }
        if (isHalError(err)) {
          return reply.code(502).send(errorBody('EDGEFLOW_GPIO_FAILED', `${name}: ${err.message}`));
        }
        throw err;
      }
      return { name, value: body.value.value };
    },
  );
}
