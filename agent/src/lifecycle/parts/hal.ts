import { HalSource } from '../../hal/hal-source.js';
import { durableLocalStore } from '../../ingest/durable-local.js';
import type { AgentPart } from '../part.js';

/** On-board sensors and GPIO through the HAL (pollers with backoff). */
export const halPart: AgentPart = {
  name: 'hal',
  async start(ctx) {
    const { units, log } = ctx;
    const durable = units.durable;
    units.hal = await HalSource.start(ctx.config.hal, {
      // With the write-ahead log, HAL readings are logged before they reach the cache.
      cache:
        durable === undefined
          ? ctx.cache
          : {
              store: durableLocalStore(
                {
                  durable,
                  cache: ctx.cache,
                  metrics: ctx.metrics,
                  log: log.child({ component: 'wal' }),
                  now: ctx.deps.now,
                },
                ctx.config.ingest.rejectLogWindowSec * 1000,
              ),
            },
      metrics: ctx.metrics,
      log: log.child({ component: 'hal' }),
      publish: (topic, payload) => units.broker?.publish(topic, payload),
    });
  },
  async stop({ units }) {
    await units.hal?.stop();
  },
};
