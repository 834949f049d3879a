import { z } from 'zod';
import { parseScryptHash } from './password.js';

/**
 * Configuration of the embedded broker's security and limits (`mqtt.auth`, `mqtt.tls`,
 * `mqtt.limits`); docs/ingest.md "Security and limits" and docs/configuration.md.
 */

const patterns = z
  .array(
    z
      .string()
      .min(1)
      .refine(
        (p) =>
          !p.split('/').some((l, i, a) => l.includes('#') && (l !== '#' || i !== a.length - 1)),
        {
          error: '# must be a whole last level',
        },
      )
      .refine((p) => !p.split('/').some((l) => l.includes('+') && l !== '+'), {
        error: '+ must be a whole level',
      }),
  )
  .max(256);

const aclFields = {
  /** Topic patterns this client may publish to (`+`, `#`, `%u` user name, `%c` client id). */
  publish: patterns.default(['#']),
  /** Topic filters this client may subscribe to (same syntax). */
  subscribe: patterns.default(['#']),
};

const userSchema = z.strictObject({
  username: z.string().min(1).max(128),
  /**
   * `scrypt$N$r$p$salt$hash` (docs/ingest.md shows how to make one). Absent: the user can only
   * authenticate with a TLS client certificate whose subject CN is the user name.
   */
  passwordHash: z
    .string()
    .refine((s) => parseScryptHash(s) !== undefined, {
      error: 'must be scrypt$N$r$p$<salt base64>$<hash base64> (see docs/ingest.md)',
    })
    .optional(),
  ...aclFields,
});

export const mqttAuthSchema = z
  .strictObject({
    /** Clients that present no user name (and no client certificate) are accepted. */
    allowAnonymous: z.boolean({ error: 'must be true or false' }).default(true),
    /** ACL of anonymous clients. */
    anonymous: z.strictObject(aclFields).prefault({}),
    users: z
      .array(userSchema)
      .default([])
      .refine((us) => new Set(us.map((u) => u.username)).size === us.length, {
        error: 'user names must be unique',
      }),
  })
  .prefault({});

export const mqttTlsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(8883),
  /** PEM files, read at start. */
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  /** CA bundle that client certificates must chain to (required with requireClientCert). */
  caFile: z.string().min(1).optional(),
  /** Refuse TLS clients without a valid certificate from caFile. */
  requireClientCert: z.boolean().default(true),
});

export const mqttLimitsSchema = z
  .strictObject({
    /**
     * Largest MQTT packet accepted, bytes (checked on the fixed header, before the body is
     * buffered or decoded): a larger one closes the connection.
     */
    maxPacketBytes: z.number().int().min(1024).max(268435455).default(262144),
    /**
     * Incoming QoS 2 messages awaiting PUBREL per client id, across its reconnections (a
     * persistent session keeps them); a new one beyond it closes the connection unacknowledged.
     */
    maxInflight: z.number().int().min(1).max(65535).default(1000),
    /** The same, over all clients together (bounds the broker's memory for held ids). */
    maxInflightTotal: z.number().int().min(1).max(10_000_000).default(100_000),
    /** Per-client PUBLISH rate (token bucket, messages/s); 0 = unlimited. Excess: disconnect. */
    ratePerSec: z.number().min(0).max(1e7).default(0),
    /** Bucket size of the rate limit (a burst above the rate). */
    rateBurst: z.number().int().min(1).max(1e7).default(1000),
    /** A violation kind is logged at most once per window (it is always counted). */
    logWindowSec: z.number().int().min(1).max(3600).default(60),
  })
  .prefault({});

export type MqttAuthConfig = z.output<typeof mqttAuthSchema>;
export type MqttTlsConfig = z.output<typeof mqttTlsSchema>;
export type MqttLimitsConfig = z.output<typeof mqttLimitsSchema>;
