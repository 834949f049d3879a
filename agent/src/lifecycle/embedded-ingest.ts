import type { Logger } from 'pino';
import { DurablePersistence, type DurableSink } from '../broker/durable-persistence.js';
import { EmbeddedBroker, type EmbeddedBrokerDeps } from '../broker/embedded-broker.js';
import type { AgentConfig } from '../config/schema.js';
import { DurableIngest } from '../ingest/durable-ingest.js';
import type { IngestPipeline } from '../ingest/pipeline.js';
import { mqttSource } from '../ingest/source-name.js';
import type { IngestCounters } from '../metrics/shared-counters.js';
import type { SessionState } from '../wal/session-state.js';

export interface EmbeddedIngestDeps {
  config: AgentConfig;
  /** The write-ahead log (ingest.durability = wal); undefined: in-memory ingest. */
  durable: (DurableSink & { sessions?: SessionState }) | undefined;
  pipeline: IngestPipeline;
  metrics: IngestCounters;
  log: Logger;
  now: () => number;
  /** True when the message was a command (acted on, not stored). */
  command: (topic: string, payload: Uint8Array, clientId: string, user: string | null) => boolean;
  /** The upstream bridge's outbox: resolves when the message is in it (undefined: not bridged). */
  offer: (topic: string, payload: Uint8Array) => Promise<void> | undefined;
  /**
   * An ingest worker's own persistence (WorkerPersistence) instead of the one built here; and
   * what its broker does differently (shared port, cluster emitter, client claims, no expiry:
   * the main thread expires sessions).
   */
  cluster?: {
    persistence: DurablePersistence;
    port: number;
    tlsPort: number | undefined;
  } & Pick<EmbeddedBrokerDeps, 'mq' | 'beforeConnect' | 'violationLog'>;
}

/**
 * The embedded broker wired to the ingest path: with the write-ahead log, the durable aedes
 * persistence (duplicate filter and persistent sessions) and the durable ingest step whose
 * record gates PUBREC; without it, aedes's own behaviour with the in-memory pipeline.
 */
export async function startEmbeddedIngest(d: EmbeddedIngestDeps): Promise<EmbeddedBroker> {
  const { config, durable, metrics, log } = d;
  const persistence =
    d.cluster?.persistence ??
    (durable === undefined
      ? undefined
      : new DurablePersistence({
          durable,
          ...(durable.sessions !== undefined ? { sessions: durable.sessions } : {}),
          onDuplicate: () => metrics.ingestDuplicates.inc(),
          onSessionError: (err) => {
            metrics.walErrors.inc();
            log.warn(
              { event: 'wal.session_append_failed', err: err.message },
              'a session change could not be written to the write-ahead log',
            );
          },
        }));
  const durableIngest =
    durable === undefined || persistence === undefined
      ? undefined
      : new DurableIngest(
          {
            pipeline: d.pipeline,
            durable,
            persistence,
            metrics,
            log: log.child({ component: 'wal' }),
            now: d.now,
          },
          config.ingest.rejectLogWindowSec * 1000,
        );
  const cluster = d.cluster;
  const tls = config.mqtt.tls;
  return EmbeddedBroker.start(
    {
      ...config.mqtt.listen,
      maxConnections: config.mqtt.maxConnections,
      sessionExpirySec: cluster === undefined ? config.mqtt.sessionExpirySec : 0,
      auth: config.mqtt.auth,
      limits: config.mqtt.limits,
      tls:
        cluster === undefined || tls === undefined
          ? tls
          : { ...tls, port: cluster.tlsPort ?? tls.port },
      ...(cluster !== undefined ? { port: cluster.port, reusePort: true } : {}),
    },
    {
      ...(cluster?.mq !== undefined ? { mq: cluster.mq } : {}),
      ...(cluster?.beforeConnect !== undefined ? { beforeConnect: cluster.beforeConnect } : {}),
      ...(cluster?.violationLog !== undefined ? { violationLog: cluster.violationLog } : {}),
      log: log.child({ component: 'broker' }),
      now: d.now,
      onViolation: (kind) => metrics.mqttViolations.inc({ kind }),
      onSessionExpired: () => metrics.mqttSessionsExpired.inc(),
      ...(persistence !== undefined ? { persistence } : {}),
      onPublish: (topic, payload, clientId, info) => {
        // Commands (edgeflow/<device>/...) are acted on, not stored; they answer on their
        // result topic and are acknowledged at once.
        if (d.command(topic, payload, clientId, info.user)) return undefined;
        const next = () => {
          if (durableIngest !== undefined)
            return durableIngest.handle(topic, payload, clientId, info);
          d.pipeline.handle(topic, payload, mqttSource(clientId));
          return undefined;
        };
        // Bridged topics: into the outbox first (a crash in between gives a duplicate
        // upstream, never a loss), then the ingest; the acknowledgement waits for both.
        const forwarded = d.offer(topic, payload);
        return forwarded === undefined ? next() : forwarded.then(next);
      },
    },
  );
}
