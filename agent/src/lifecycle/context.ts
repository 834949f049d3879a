import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { UpstreamBridge } from '../bridge/upstream-bridge.js';
import type { AddressInfo } from 'node:net';
import type { SharedShardedMapDeps } from '@edgeflow/sharded-map';
import type { SensorCache } from '../cache/sensor-cache.js';
import type { SnapshotStore } from '../cache/snapshot.js';
import type { MqttCommands } from '../commands/mqtt-commands.js';
import type { AgentConfig } from '../config/schema.js';
import type { ExternalSubscriber } from '../external/external-subscriber.js';
import type { HalSource } from '../hal/hal-source.js';
import type { IngestPipeline } from '../ingest/pipeline.js';
import type { IngestWorkers } from '../ingest/workers/worker-pool.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import type { OtaTrial } from '../ota/ota-trial.js';
import type { DurableLog } from '../wal/durable-log.js';
import type { DataDirLock } from './data-dir-lock.js';
import type { SystemdNotifier } from './systemd-notify.js';

/** What the world provides to the agent (injected; tests pass their own). */
export interface AgentDeps {
  log: Logger;
  now: () => number;
  notifier: SystemdNotifier;
  env: NodeJS.ProcessEnv;
  pid: number;
  /** Process metrics in /metrics (off in unit tests). */
  defaultMetrics?: boolean;
  /**
   * The agent asks its process to exit non-zero (an OTA trial failed: the next start rolls
   * back). Without it, the agent only logs.
   */
  requestExit?: (reason: string) => void;
  /**
   * Ends the process now, without a graceful stop (crash-only: an ingest worker failed, see
   * docs/ingest.md). Default `process.exit`. Tests pass their own.
   */
  exitNow?: (code: number, reason: string) => void;
  /** Test hook: options of the main thread's handle on the cache's SharedShardedMap. */
  cacheMapDeps?: SharedShardedMapDeps;
  /** Test hook: the module each ingest worker thread runs (default the agent's own). */
  ingestWorkerScript?: URL;
  /**
   * Test hook: each ingest worker's cache writes pause this long half-way through a record
   * (numbers written, strings not yet), inside the seqlock: a torn-read detector gets a wide
   * window to catch a reader that ignores the sequence.
   */
  ingestWorkerPauseMidRecordMs?: number;
}

/**
 * The embedded broker as the rest of the agent uses it: one aedes on the main thread
 * (EmbeddedBroker), or the ingest workers' brokers together (IngestWorkers).
 */
export interface BrokerUnit {
  readonly address: AddressInfo;
  readonly tlsAddress: AddressInfo | undefined;
  readonly listening: boolean;
  readonly connectedClients: number;
  /** Incoming QoS 2 ids held by the broker's clients (absent: the log counts them). */
  readonly inflightIncoming?: number;
  /** Publishes from inside the agent (QoS 0; retained when asked). */
  publish(topic: string, payload: Buffer, retain?: boolean): void;
  close(): Promise<void>;
}

/**
 * The units the parts create, filled in start order: a part reads only the units of parts
 * listed before it (see agent-parts.ts), or reads them lazily in a callback.
 */
export interface AgentUnits {
  lock?: DataDirLock;
  /** The write-ahead log (ingest.durability = wal). */
  durable?: DurableLog;
  /** The cache holds what the snapshot (and the log) had. */
  restored: boolean;
  pipeline?: IngestPipeline;
  bridge?: UpstreamBridge;
  broker?: BrokerUnit;
  /** The ingest workers (ingest.workers > 1), also `broker`. */
  ingestWorkers?: IngestWorkers;
  external?: ExternalSubscriber;
  hal?: HalSource;
  http?: FastifyInstance;
  ota?: OtaTrial;
  commands?: MqttCommands;
}

/** What every part gets: configuration, injected world, the shared units. */
export interface AgentContext {
  readonly config: AgentConfig;
  readonly deps: AgentDeps;
  readonly log: Logger;
  readonly cache: SensorCache;
  readonly metrics: AgentMetrics;
  readonly snapshots: SnapshotStore;
  readonly units: AgentUnits;
}

/** A unit an earlier part must have created: its absence is an ordering bug. */
export function need<T>(unit: T | undefined, name: string, by: string): T {
  if (unit === undefined) throw new Error(`agent part "${by}" needs "${name}", started before it`);
  return unit;
}
