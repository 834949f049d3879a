import { DurablePersistence } from '../../broker/durable-persistence.js';
import { MemoryPersistence } from '../../broker/memory-persistence.js';
import { deviceTopicLevel } from '../../device-id.js';
import { ingestWorkerCount } from '../../ingest/workers/worker-count.js';
import { IngestWorkers } from '../../ingest/workers/worker-pool.js';
import type { AgentContext } from '../context.js';
import type { AgentPart } from '../part.js';

/**
 * The embedded broker and the ingest path on `ingest.workers` threads (when more than one;
 * with one, brokerPart runs them on the main thread). The main thread keeps the write-ahead
 * log, the persistent sessions, HTTP, the HAL, the bridge and the commands.
 */
export const ingestWorkersPart: AgentPart = {
  name: 'ingest-workers',
  enabled: ({ config }) => config.mqtt.embedded && ingestWorkerCount(config).count > 1,
  async start(ctx) {
    const { config, units, log, metrics } = ctx;
    const { count } = ingestWorkerCount(config);
    const durable = units.durable;
    const persistence =
      durable === undefined
        ? new MemoryPersistence()
        : new DurablePersistence({
            durable,
            sessions: durable.sessions,
            onSessionError: (err) => {
              metrics.walErrors.inc();
              log.warn(
                { event: 'wal.session_append_failed', err: err.message },
                'a session change could not be written to the write-ahead log',
              );
            },
          });
    await persistence.setup({ id: 'main' });
    const workers = await IngestWorkers.start({
      config,
      count,
      cache: ctx.cache,
      durable,
      persistence,
      log: log.child({ component: 'broker' }),
      now: ctx.deps.now,
      device: deviceTopicLevel(),
      command: (topic, payload, clientId, user) =>
        units.commands?.handle(topic, payload, clientId, user),
      offer: (topic, payload) => units.bridge?.offer(topic, payload),
      failed: (index, err) => crash(ctx, index, err),
      onSessionExpired: () => metrics.mqttSessionsExpired.inc(),
      ...(ctx.deps.ingestWorkerScript ? { script: ctx.deps.ingestWorkerScript } : {}),
      ...(ctx.deps.ingestWorkerPauseMidRecordMs !== undefined
        ? { pauseMidRecordMs: ctx.deps.ingestWorkerPauseMidRecordMs }
        : {}),
    });
    units.ingestWorkers = workers;
    units.broker = workers;
    log.info(
      { event: 'ingest.workers_started', workers: count, port: workers.address.port },
      `ingest on ${count} worker threads`,
    );
  },
  async stop({ units }) {
    await units.ingestWorkers?.close();
  },
};

/**
 * Crash-only (docs/ingest.md "A worker that fails"): the process exits at once, without a final
 * checkpoint (the failed worker's committed incoming ids are only in the log now); systemd
 * restarts it and the log replay brings back everything acknowledged.
 */
function crash(ctx: AgentContext, index: number, err: Error): void {
  const reason = `ingest worker ${index} failed: ${err.message}`;
  ctx.log.fatal(
    { event: 'ingest.worker_failed', code: 'EDGEFLOW_INGEST_WORKER_FAILED', worker: index, err },
    'an ingest worker failed; exiting (crash-only: the write-ahead log recovers on restart)',
  );
  ctx.units.durable?.abandon();
  const exit =
    ctx.deps.exitNow ??
    ((code: number) => {
      ctx.log.flush();
      process.exit(code);
    });
  exit(70, reason);
}
