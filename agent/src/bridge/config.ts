import { z } from 'zod';
import { mqttConnectionFields } from '../external/config.js';
import { aggregateRuleSchema } from './aggregate-config.js';

/** `bridge`: forward local MQTT messages to a cloud broker through an on-disk outbox. */
export const bridgeConfigSchema = z
  .strictObject({
    ...mqttConnectionFields,
    /**
     * Filters of the local messages to forward (raw: topic and payload byte for byte), as
     * they are received by the embedded broker or the external subscriber. May be empty when
     * `aggregate` forwards everything wanted.
     */
    topics: z.array(z.string().min(1)).default(['sensors/#']),
    /**
     * Summaries instead of raw messages: a message matched by a rule's `match` is aggregated
     * (by the first such rule) and not forwarded raw, even when `topics` matches it too.
     */
    aggregate: z.array(aggregateRuleSchema).default([]),
    /** Prepended to the topic upstream, e.g. `site1/gw7/`. */
    topicPrefix: z
      .string()
      // eslint-disable-next-line no-control-regex
      .refine((t) => !/[#+\u0000]/.test(t), { error: 'must not contain + # or NUL' })
      .default(''),
    /** QoS of the upstream PUBLISH: 1 (at least once) or 2. */
    qos: z.union([z.literal(1), z.literal(2)]).default(2),
    /** Messages sent upstream and not yet acknowledged, at most. */
    maxInflight: z.number().int().min(1).max(65535).default(100),
    outbox: z
      .strictObject({
        /** Bound on undelivered messages (bytes on disk, also held in memory). */
        maxBytes: z
          .number()
          .int()
          .min(65536)
          .max(2 ** 40)
          .default(64 * 1024 * 1024),
        segmentBytes: z
          .number()
          .int()
          .min(4096)
          .max(1024 * 1024 * 1024)
          .default(4 * 1024 * 1024),
        /**
         * `block`: hold the acknowledgement of new matching messages until there is room
         * (publishers slow down, nothing is lost); `drop-oldest`: drop the oldest undelivered.
         */
        whenFull: z.enum(['block', 'drop-oldest']).default('block'),
      })
      .prefault({}),
  })
  .refine((c) => c.topics.length > 0 || c.aggregate.length > 0, {
    error: 'nothing to forward: set topics, aggregate, or both',
  })
  .refine((c) => !(c.passwordFile !== undefined && c.passwordEnv !== undefined), {
    error: 'set passwordFile or passwordEnv, not both',
  });

export type BridgeConfig = z.output<typeof bridgeConfigSchema>;
