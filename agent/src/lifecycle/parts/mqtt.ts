import { join } from 'node:path';
import { UpstreamBridge } from '../../bridge/upstream-bridge.js';
import { ExternalSubscriber } from '../../external/external-subscriber.js';
import { deadLetterBody } from '../../ingest/dead-letter.js';
import { DurableIngest } from '../../ingest/durable-ingest.js';
import { IngestPipeline } from '../../ingest/pipeline.js';
import { mqttSource } from '../../ingest/source-name.js';
import { need, type AgentContext } from '../context.js';
import { startEmbeddedIngest } from '../embedded-ingest.js';
import { ingestWorkerCount } from '../../ingest/workers/worker-count.js';
import type { AgentPart } from '../part.js';

/** Decoding and validation of sensor messages, shared by every MQTT source. */
export const ingestPart: AgentPart = {
  name: 'ingest',
  start(ctx) {
    const { config, log } = ctx;
    ctx.units.pipeline = new IngestPipeline(
      {
        sensorPrefix: config.mqtt.sensorPrefix,
        maxPayloadBytes: config.mqtt.maxPayloadBytes,
        rejectLogWindowMs: config.ingest.rejectLogWindowSec * 1000,
      },
      {
        cache: ctx.cache,
        metrics: ctx.metrics,
        log: log.child({ component: 'ingest' }),
        now: ctx.deps.now,
        deadLetter: (topic, payload, reason, detail, code) =>
          deadLetter(ctx, topic, payload, { code, reason, detail }),
      },
    );
  },
};

function deadLetter(
  ctx: AgentContext,
  topic: string,
  payload: Uint8Array,
  why: { code: string; reason: string; detail: string },
): void {
  ctx.units.broker?.publish(ctx.config.mqtt.deadLetterTopic, deadLetterBody(topic, payload, why));
}

/** The upstream bridge (store and forward); closed after every producer that offers to it. */
export const bridgePart: AgentPart = {
  name: 'bridge',
  enabled: ({ config }) => config.bridge !== undefined,
  async start(ctx) {
    const { config, log } = ctx;
    ctx.units.bridge = await UpstreamBridge.start(need(config.bridge, 'bridge config', 'bridge'), {
      log: log.child({ component: 'bridge' }),
      env: ctx.deps.env,
      now: ctx.deps.now,
      outboxDir: join(config.dataDir, 'outbox'),
      registry: ctx.metrics.registry,
      sensorPrefix: config.mqtt.sensorPrefix,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
    });
  },
  async stop({ units }) {
    await units.bridge?.close();
  },
};

/** The embedded aedes broker on the ingest path; closing it drains in-flight QoS 2 handlers. */
export const brokerPart: AgentPart = {
  name: 'broker',
  // With ingest workers (ingest-workers.ts), the broker runs in them instead.
  enabled: ({ config }) => config.mqtt.embedded && ingestWorkerCount(config).count === 1,
  async start(ctx) {
    const { units } = ctx;
    const { reason } = ingestWorkerCount(ctx.config);
    if (reason !== undefined)
      ctx.log.warn({ event: 'ingest.workers_unavailable', reason }, 'ingest on one thread');
    units.broker = await startEmbeddedIngest({
      config: ctx.config,
      durable: units.durable,
      pipeline: need(units.pipeline, 'pipeline', 'broker'),
      metrics: ctx.metrics,
      log: ctx.log,
      now: ctx.deps.now,
      command: (topic, payload, clientId, user) =>
        units.commands?.handle(topic, payload, clientId, user) ?? false,
      offer: (topic, payload) => units.bridge?.offer(topic, payload),
    });
  },
  async stop({ units }) {
    await units.broker?.close();
  },
};

/** Subscription to an existing broker (`mqtt.external`). */
export const externalPart: AgentPart = {
  name: 'external',
  enabled: ({ config }) => config.mqtt.external !== undefined,
  async start(ctx) {
    const { config, units, log } = ctx;
    const pipeline = need(units.pipeline, 'pipeline', 'external');
    const durable = units.durable;
    const window = config.ingest.rejectLogWindowSec * 1000;
    const durableIngest =
      durable === undefined
        ? undefined
        : new DurableIngest(
            {
              pipeline,
              durable,
              // No aedes duplicate filter to undo: the store reads the log's ids.
              persistence: {
                forgetIncoming: () => Promise.resolve(),
                takeEnqueue: () => undefined,
              },
              metrics: ctx.metrics,
              log: log.child({ component: 'wal' }),
              now: ctx.deps.now,
            },
            window,
          );
    units.external = await ExternalSubscriber.start(
      need(config.mqtt.external, 'config', 'external'),
      {
        log: log.child({ component: 'external' }),
        env: ctx.deps.env,
        now: ctx.deps.now,
        durable,
        ingest: (topic, payload, logId, info) => {
          if (durableIngest !== undefined) return durableIngest.handle(topic, payload, logId, info);
          pipeline.handle(topic, payload, mqttSource(logId));
          return undefined;
        },
        beforeIngest: (topic, payload) => units.bridge?.offer(topic, payload),
        onDuplicate: () => ctx.metrics.ingestDuplicates.inc(),
        rejectLogWindowMs: window,
      },
    );
  },
  async stop({ units }) {
    await units.external?.close();
  },
};
