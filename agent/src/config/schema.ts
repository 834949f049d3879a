import { halConfigSchema } from '@edgeflow/hal';
import { z } from 'zod';
import { attestationConfigSchema } from '../attestation/index.js';
import { mqttAuthSchema, mqttLimitsSchema, mqttTlsSchema } from '../broker/security-config.js';
import { bridgeConfigSchema } from '../bridge/config.js';
import { externalBrokerSchema } from '../external/config.js';
import { consoleConfigSchema } from '../http/console/config.js';

/**
 * The agent configuration schema: the single source of truth for keys, types and defaults
 * (docs/configuration.md documents the same; a test keeps the defaults in sync).
 * Every object is strict: an unknown key is an error naming its path.
 */

const port = (fallback: number) =>
  z
    .number({ error: 'must be an integer 1-65535' })
    .int({ error: 'must be an integer 1-65535' })
    .min(1, { error: 'must be an integer 1-65535' })
    .max(65535, { error: 'must be an integer 1-65535' })
    .default(fallback);

const listen = (defaultPort: number) =>
  z
    .strictObject({
      host: z
        .string({ error: 'must be a host name or IP address' })
        .min(1, { error: 'must be a host name or IP address' })
        .default('127.0.0.1'),
      port: port(defaultPort),
    })
    .prefault({});

const powerOfTwo = z
  .number({ error: 'must be a power of two 1-1024' })
  .int({ error: 'must be a power of two 1-1024' })
  .refine((n) => n >= 1 && n <= 1024 && (n & (n - 1)) === 0, {
    error: 'must be a power of two 1-1024',
  });

// NUL is forbidden in MQTT topic names [MQTT-4.7.3-2].
// eslint-disable-next-line no-control-regex
const topicSegment = /^[^#+/\u0000]+$/;

/**
 * An action's grant: the API token names (http.apiTokens) and, for actions that also have an
 * MQTT command, the MQTT user names (mqtt.auth.users) allowed to perform it. The same shape
 * for every action (gpio.access, ota.access, attestation.access, selftest.access), empty by
 * default: an action nobody was granted is refused.
 */
const access = {
  http: z
    .strictObject({ apiTokens: z.array(z.string().min(1).max(64)).max(64).default([]) })
    .prefault({}),
  mqtt: z
    .strictObject({
      apiTokens: z.array(z.string().min(1).max(64)).max(64).default([]),
      mqttUsers: z.array(z.string().min(1).max(128)).max(64).default([]),
    })
    .prefault({}),
};

export const configSchema = z
  .strictObject({
    /** Where the agent keeps its state (cache snapshot, logs of state). */
    dataDir: z.string().min(1, { error: 'must be a non-empty path' }).default('/var/lib/edgeflow'),
    /**
     * How long a graceful stop (SIGTERM: drain in-flight QoS 2, final snapshot) may take before
     * the process exits anyway; keep it below the unit's TimeoutStopSec (systemd's default 90 s).
     */
    stopTimeoutSec: z.number().int().min(1).max(3600).default(10),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
            error: 'must be one of fatal, error, warn, info, debug, trace, silent',
          })
          .default('info'),
        /** auto: readable at a terminal, JSON elsewhere (with journald priorities under systemd). */
        format: z
          .enum(['auto', 'json', 'pretty'], { error: 'must be one of auto, json, pretty' })
          .default('auto'),
      })
      .prefault({}),
    mqtt: z
      .strictObject({
        /** Run the embedded broker that devices publish to. */
        embedded: z.boolean({ error: 'must be true or false' }).default(true),
        listen: listen(1883),
        /** First topic level of sensor readings: `<prefix>/<device>/<sensor>`. */
        sensorPrefix: z
          .string()
          .regex(topicSegment, { error: 'must be one topic level without / + # or NUL' })
          .default('sensors'),
        /** Payloads larger than this are rejected (counted, dead-lettered). */
        maxPayloadBytes: z
          .number()
          .int({ error: 'must be an integer 16-268435455' })
          .min(16, { error: 'must be an integer 16-268435455' })
          .max(268435455, { error: 'must be an integer 16-268435455' })
          .default(65536),
        /** Rejected payloads are republished here (QoS 0, not retained) with the reason. */
        deadLetterTopic: z
          .string()
          .min(1)
          // eslint-disable-next-line no-control-regex
          .refine((t) => !/[#+\u0000]/.test(t), {
            error: 'must be a topic name without + # or NUL',
          })
          .default('edgeflow/deadletter'),
        maxConnections: z.number().int().min(1).max(100000).default(1000),
        sessionExpirySec: z.number().int().min(0).max(31_536_000).default(604_800),
        /** Embedded broker: users (scrypt hashes), anonymous access, topic ACLs (docs/ingest.md). */
        auth: mqttAuthSchema,
        /** Embedded broker: a TLS listener with client certificates; absent = none. */
        tls: mqttTlsSchema.optional(),
        /** Embedded broker: packet size, in-flight, per-client rate limits. */
        limits: mqttLimitsSchema,
        /** Subscribe to an existing broker (docs/ingest.md, "External broker"); absent = off. */
        external: externalBrokerSchema.optional(),
      })
      .prefault({}),
    http: z
      .strictObject({
        listen: listen(8080),
        /**
         * Tokens allowed to call state-changing routes, by SHA-256 (the config holds no secret).
         * Empty: those routes answer 403.
         */
        apiTokens: z
          .array(
            z.strictObject({
              name: z.string().min(1).max(64),
              sha256: z
                .string()
                .regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits (sha256sum)' }),
            }),
          )
          .default([]),
        /**
         * Reads (GET) when `listen.host` is not loopback: false = they need a token as well;
         * true = whoever reaches the listener may read. On loopback, reads are always open.
         */
        publicRead: z.boolean({ error: 'must be true or false' }).default(false),
        /** HTTPS on the same listener with this PEM certificate and key; absent = plain HTTP. */
        tls: z
          .strictObject({
            certFile: z.string().min(1, { error: 'must be a path' }),
            keyFile: z.string().min(1, { error: 'must be a path' }),
          })
          .optional(),
        /** The console at `/` (docs/console.md). */
        console: consoleConfigSchema,
      })
      .prefault({}),
    cache: z
      .strictObject({
        /** Shard count of the sensor cache (power of two). */
        shards: powerOfTwo.default(64),
        /**
         * Sensors the cache holds at most: its records are preallocated in shared memory (read
         * by the main thread, written by the ingest workers). A reading for a sensor past it is
         * logged but not cached (edgeflow_cache_full_total).
         */
        capacity: z
          .number()
          .int({ error: 'must be an integer 16-10000000' })
          .min(16, { error: 'must be an integer 16-10000000' })
          .max(10_000_000, { error: 'must be an integer 16-10000000' })
          .default(100_000),
        /**
         * UTF-8 bytes each sensor keeps for its text: a string value, the unit and the source
         * (`mqtt:<client id>`) together. A reading needing more is refused (reading_too_large).
         */
        stringBytes: z
          .number()
          .int({ error: 'must be an integer 64-65535' })
          .min(64, { error: 'must be an integer 64-65535' })
          .max(65535, { error: 'must be an integer 64-65535' })
          .default(256),
        /** Seconds between cache snapshots to disk; 0 = only at shutdown. */
        snapshotIntervalSec: z
          .number()
          .int({ error: 'must be an integer 0-86400' })
          .min(0, { error: 'must be an integer 0-86400' })
          .max(86400, { error: 'must be an integer 0-86400' })
          .default(60),
      })
      .prefault({}),
    /** On-board sensors and GPIO (see docs/hal.md); with no board, the simulator board. */
    hal: halConfigSchema.prefault({}),
    /**
     * Who may drive the output lines of `hal.gpio`: the same grant over HTTP (token names from
     * http.apiTokens, PUT /v1/gpio/:name) and MQTT (user names from mqtt.auth.users,
     * edgeflow/<device>/gpio/<name>/set). Empty lists: refused for everyone.
     */
    gpio: z.strictObject({ access: access.mqtt }).prefault({}),
    /** The agent's side of OTA trials (docs/ota.md). */
    ota: z
      .strictObject({
        /** OTA root: releases, state. Without readable OTA state there is no trial. */
        root: z.string().min(1).default('/opt/edgeflow'),
        /** Seconds between health reports while a release is on trial. */
        healthIntervalSec: z.number().int().min(1).max(300).default(5),
        /**
         * Who may change the OTA state: commit or roll back the release on trial over HTTP
         * (the console's POST /v1/console/ota/commit|rollback: token names from
         * http.apiTokens) and request installs over MQTT (edgeflow/<device>/ota/install: user
         * names from mqtt.auth.users; earlier name ota.mqttInstall.users, config/renamed.ts).
         * Empty lists: refused for everyone.
         */
        access: access.mqtt,
        /**
         * Installs requested over MQTT (`edgeflow/<device>/ota/install`, docs/api.md): the agent
         * only writes a request file; the root-side edgeflow-ota-request.path installs.
         */
        mqttInstall: z
          .strictObject({
            /** Accept http:// bundle URLs (the sha256 and the signature still hold). */
            allowHttp: z.boolean().default(false),
            /** Largest bundle a request may name, bytes. */
            maxBytes: z.number().int().min(1).max(17179869184).default(1073741824),
            /** Seconds between checks of a pending request's progress (the root side's result). */
            pollIntervalSec: z.number().int().min(1).max(300).default(2),
          })
          .prefault({}),
      })
      .prefault({}),
    /** TPM 2.0 attestation (docs/attestation.md); reported unavailable when no TPM answers. */
    attestation: attestationConfigSchema,
    /**
     * Who may run the cache self-test (POST /v1/selftest/shared-map: worker threads write into
     * the live shared cache): token names from http.apiTokens. Empty: refused for everyone.
     */
    selftest: z.strictObject({ access: access.http }).prefault({}),
    ingest: z
      .strictObject({
        /** A given rejection reason is logged at most once per window (it is always counted). */
        rejectLogWindowSec: z.number().int().min(1).max(3600).default(60),
        /**
         * `wal`: every accepted message is in an fsynced write-ahead log before it is acknowledged
         * (QoS 2: before PUBREC); `memory`: cache snapshots only (a crash loses what came since).
         */
        durability: z.enum(['wal', 'memory'], { error: 'must be wal or memory' }).default('wal'),
        /**
         * Threads that run the embedded broker and the ingest path (docs/ingest.md "Ingest
         * workers"): `auto` = one per core, at most 4; 1 = everything on the main thread.
         */
        workers: z
          .union(
            [
              z.literal('auto'),
              z
                .number()
                .int({ error: 'must be auto or an integer 1-64' })
                .min(1, { error: 'must be auto or an integer 1-64' })
                .max(64, { error: 'must be auto or an integer 1-64' }),
            ],
            { error: 'must be auto or an integer 1-64' },
          )
          .default('auto'),
        /** A checkpoint (cache snapshot + new log segment) starts when a segment reaches this. */
        walSegmentBytes: z
          .number()
          .int({ error: 'must be an integer 65536-1073741824' })
          .min(65536, { error: 'must be an integer 65536-1073741824' })
          .max(1073741824, { error: 'must be an integer 65536-1073741824' })
          .default(67108864),
      })
      .prefault({}),
    /** Store-and-forward to a cloud broker (docs/ingest.md, "Upstream bridge"); absent = off. */
    bridge: bridgeConfigSchema.optional(),
  })
  // A grant naming a token or user that does not exist is a typo that would silently refuse.
  .superRefine((c, ctx) => {
    // Optional chaining: zod may run this with other keys already reported invalid.
    const tokens = new Set((c.http?.apiTokens ?? []).map((t) => t.name));
    const users = new Set((c.mqtt?.auth?.users ?? []).map((u) => u.username));
    const grants: [string, { apiTokens?: string[]; mqttUsers?: string[] } | undefined][] = [
      ['gpio', c.gpio?.access],
      ['ota', c.ota?.access],
      ['attestation', c.attestation?.access],
      ['selftest', c.selftest?.access],
    ];
    for (const [section, a] of grants) {
      (a?.apiTokens ?? []).forEach((n, i) => {
        if (!tokens.has(n))
          ctx.addIssue({
            code: 'custom',
            path: [section, 'access', 'apiTokens', i],
            message: `no token named "${n}" in http.apiTokens`,
          });
      });
      (a?.mqttUsers ?? []).forEach((n, i) => {
        if (!users.has(n))
          ctx.addIssue({
            code: 'custom',
            path: [section, 'access', 'mqttUsers', i],
            message: `no user named "${n}" in mqtt.auth.users`,
          });
      });
    }
  });

/** Validated, frozen configuration. */
export type AgentConfig = z.output<typeof configSchema>;
export type AgentConfigInput = z.input<typeof configSchema>;
