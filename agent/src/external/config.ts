import { z } from 'zod';

/**
 * Connection settings shared by the external-broker subscriber and the upstream bridge.
 * Secrets never appear in the file: the password comes from a file or an environment variable
 * (read at start, never logged), TLS material from paths.
 */
export const mqttConnectionFields = {
  /** `mqtt://host:1883`, `mqtts://host:8883` (TLS) or `ws(s)://...`. */
  url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, {
    error: 'must be an mqtt://, mqtts://, ws:// or wss:// URL',
  }),
  /** MQTT client id; the persistent session is bound to it, so keep it stable per gateway. */
  clientId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must match [A-Za-z0-9_.:-]{1,128}' }),
  username: z.string().min(1).optional(),
  /** File holding the password (first line; trailing newline ignored). */
  passwordFile: z.string().min(1).optional(),
  /** Name of an environment variable holding the password. */
  passwordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' })
    .optional(),
  /** PEM files: CA bundle to verify the broker, client certificate and key for mutual TLS. */
  tls: z
    .strictObject({
      ca: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      /** Only for test brokers with self-signed certificates; never in production. */
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
  keepaliveSec: z.number().int().min(5).max(3600).default(30),
  /** Reconnect delay after a lost connection (jittered up to 2x). */
  reconnectMs: z.number().int().min(50).max(600000).default(1000),
};

const topicFilter = z
  .string()
  .min(1)
  // eslint-disable-next-line no-control-regex
  .refine((t) => !/\u0000/.test(t) && !t.startsWith('$share/'), {
    error: 'must be a topic filter without NUL (shared subscriptions come from shareGroup)',
  });

/** `mqtt.external`: subscribe to an existing broker (mosquitto, EMQX, ...) instead of/besides aedes. */
export const externalBrokerSchema = z
  .strictObject({
    ...mqttConnectionFields,
    /** Filters to subscribe to; readings are decoded like on the embedded broker. */
    topics: z.array(topicFilter).min(1).default(['sensors/#']),
    /**
     * Subscription QoS. 2 (default) with `ingest.durability: wal` gives exactly once across a
     * crash of the agent; 1 gives at least once.
     */
    qos: z.union([z.literal(1), z.literal(2)]).default(2),
    /**
     * Parallel subscriber connections. Above 1 they subscribe to `$share/<shareGroup>/<topic>`
     * (MQTT 5 shared subscriptions) with client ids `<clientId>-<n>`, so that several
     * one-message-at-a-time mqtt.js pipelines feed one group commit of the write-ahead log.
     */
    connections: z.number().int().min(1).max(64).default(1),
    shareGroup: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must match [A-Za-z0-9_.:-]{1,64}' })
      .default('edgeflow'),
  })
  .refine((c) => !(c.passwordFile !== undefined && c.passwordEnv !== undefined), {
    error: 'set passwordFile or passwordEnv, not both',
  });

export type ExternalBrokerConfig = z.output<typeof externalBrokerSchema>;
/** The connection part, common to the subscriber and the bridge. */
export type MqttConnectionConfig = Pick<
  ExternalBrokerConfig,
  | 'url'
  | 'clientId'
  | 'username'
  | 'passwordFile'
  | 'passwordEnv'
  | 'tls'
  | 'protocolVersion'
  | 'keepaliveSec'
  | 'reconnectMs'
>;
