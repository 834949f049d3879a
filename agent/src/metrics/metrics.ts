import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VIOLATION_KINDS } from '../broker/security.js';
import { REJECT_REASONS } from '../ingest/decode.js';
import type { SharedCounters } from './shared-counters.js';
import { agentVersion } from '../version.js';
import { registerFleetMetrics, type FleetMetrics, type FleetSources } from './fleet.js';

/** The agent's Prometheus metrics, on a registry of its own (no global singleton). */
export interface AgentMetrics {
  registry: Registry;
  ingestMessages: Counter<'source'>;
  ingestRejected: Counter<'reason'>;
  cacheEntries: Gauge;
  mqttClients: Gauge;
  snapshotWrites: Counter<'result'>;
  /** Write-ahead log appends that failed (disk full, I/O error): the message was not acked. */
  walErrors: Counter;
  /** Duration of each group write+fdatasync of the write-ahead log. */
  walFsyncSeconds: Histogram;
  /** QoS 2 PUBLISH retransmissions recognised as already received and not applied again. */
  ingestDuplicates: Counter;
  mqttInflightInbound: Gauge;
  /** Refused client actions of the embedded broker, by kind (auth, ACL, limits). */
  mqttViolations: Counter<'kind'>;
  mqttSessionsExpired: Counter;
  /** Readings logged but not cached: a new sensor past cache.capacity. */
  cacheFull: Counter;
  /** Build, board, OTA, HAL sensor and attestation series (fleet.ts). */
  fleet: FleetMetrics;
}

export interface MetricsDeps {
  /** Read at scrape time. */
  cacheSize: () => number;
  mqttClients: () => number;
  /** Incoming QoS 2 messages received and not yet released by PUBREL (read at scrape time). */
  inflightInbound?: () => number;
  /** Process metrics (CPU, RSS, event-loop lag, ...); off in unit tests to keep them pure. */
  defaultMetrics?: boolean;
  /** Where the fleet series read from; absent parts stay empty. */
  fleet?: Omit<FleetSources, 'version'> & { version?: string };
  /**
   * The ingest workers' counters (read at scrape time and added to the same series: the
   * numbers are the agent's, whichever thread counted them); absent without workers.
   */
  shared?: () => SharedCounters | undefined;
  /** The cache's read and lock counters of every thread, summed (read at scrape time). */
  cacheCounters?: () => { readRetries: number; lockedReads: number; lockWaits: number };
}

/**
 * Adds to `counter` what the workers counted since the last scrape (counters only grow, so the
 * difference is what is new): the series stays one prom-client counter that main-thread code
 * increments directly.
 */
function mergeShared(
  counter: Counter<string>,
  label: string | undefined,
  values: readonly (string | undefined)[],
  series: string,
  shared: (() => SharedCounters | undefined) | undefined,
): void {
  const seen = new Map<string | undefined, number>();
  const collect = (): void => {
    const s = shared?.();
    if (s === undefined) return;
    for (const v of values) {
      const now = s.sum(series, v);
      const delta = now - (seen.get(v) ?? 0);
      if (delta <= 0) continue;
      seen.set(v, now);
      if (label === undefined || v === undefined) counter.inc(delta);
      else counter.inc({ [label]: v }, delta);
    }
  };
  (counter as unknown as { collect?: () => void }).collect = collect;
}

/**
 * prom-client's defaults name three gauges `*_total`, which the exposition format reserves for
 * counters (`promtool check metrics`: "non-counter metrics should not have _total suffix").
 * Their per-type siblings without the suffix (`nodejs_active_handles{type}`, ...) carry the same
 * numbers, so these are dropped.
 */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createMetrics(deps: MetricsDeps): AgentMetrics {
  const registry = new Registry();
  if (deps.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }
  const ingest = ingestSeries(registry, deps);
  const storage = storageSeries(registry, deps);
  const mqtt = mqttSeries(registry, deps);
  const fleet = registerFleetMetrics(registry, {
    ...deps.fleet,
    version: deps.fleet?.version ?? agentVersion(),
  });
  return { registry, fleet, ...ingest, ...storage, ...mqtt };
}

/** What arrives: accepted, rejected (by reason), recognised as a duplicate. */
function ingestSeries(registry: Registry, deps: MetricsDeps) {
  const ingestMessages = new Counter({
    name: 'edgeflow_ingest_messages_total',
    help: 'Sensor readings accepted into the cache',
    labelNames: ['source'],
    registers: [registry],
  });
  const ingestRejected = new Counter({
    name: 'edgeflow_ingest_rejected_total',
    help: 'Sensor messages rejected, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const ingestDuplicates = new Counter({
    name: 'edgeflow_ingest_duplicates_total',
    help: 'QoS 2 retransmissions recognised as already received and not applied again',
    registers: [registry],
  });
  // Expose every reason at 0 from the start so that rate() works before the first rejection.
  for (const reason of REJECT_REASONS) ingestRejected.inc({ reason }, 0);
  ingestMessages.inc({ source: 'mqtt' }, 0);
  ingestMessages.inc({ source: 'hal' }, 0);
  mergeShared(ingestMessages, 'source', ['mqtt', 'hal'], 'ingest_messages', deps.shared);
  mergeShared(ingestRejected, 'reason', REJECT_REASONS, 'ingest_rejected', deps.shared);
  mergeShared(ingestDuplicates, undefined, [undefined], 'ingest_duplicates', deps.shared);
  return { ingestMessages, ingestRejected, ingestDuplicates };
}

/** Where it is kept: the cache, its snapshots, the write-ahead log. */
function storageSeries(registry: Registry, deps: MetricsDeps) {
  const cacheEntries = new Gauge({
    name: 'edgeflow_cache_entries',
    help: 'Sensors held in the cache',
    registers: [registry],
    collect() {
      this.set(deps.cacheSize());
    },
  });
  const snapshotWrites = new Counter({
    name: 'edgeflow_cache_snapshot_writes_total',
    help: 'Cache snapshots written to disk, by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const walErrors = new Counter({
    name: 'edgeflow_wal_errors_total',
    help: 'Write-ahead log appends that failed; the messages were not acknowledged',
    registers: [registry],
  });
  mergeShared(walErrors, undefined, [undefined], 'wal_errors', deps.shared);
  const cacheFull = new Counter({
    name: 'edgeflow_cache_full_total',
    help: 'Readings logged but not cached because the cache was full (cache.capacity)',
    registers: [registry],
  });
  mergeShared(cacheFull, undefined, [undefined], 'cache_full', deps.shared);
  cacheReadSeries(registry, deps);
  const walFsyncSeconds = new Histogram({
    name: 'edgeflow_wal_fsync_seconds',
    help: 'Duration of one group commit (write + fdatasync) of the write-ahead log',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  return { cacheEntries, snapshotWrites, walErrors, walFsyncSeconds, cacheFull };
}

/**
 * Per ingest worker (ingest.workers > 1): how the kernel spread the clients (SO_REUSEPORT) and
 * how the readings spread with them.
 */
function workerSeries(registry: Registry, deps: MetricsDeps): void {
  new Gauge({
    name: 'edgeflow_ingest_workers',
    help: 'Ingest worker threads running the embedded broker (0: it runs on the main thread)',
    registers: [registry],
    collect() {
      this.set(deps.shared?.()?.rows ?? 0);
    },
  });
  new Gauge({
    name: 'edgeflow_ingest_worker_clients',
    help: 'MQTT clients connected to each ingest worker',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      const s = deps.shared?.();
      for (let w = 0; w < (s?.rows ?? 0); w++)
        this.set({ worker: String(w) }, s?.get(w, 'mqtt_clients') ?? 0);
    },
  });
  new Counter({
    name: 'edgeflow_ingest_worker_messages_total',
    help: 'MQTT sensor readings accepted by each ingest worker',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      const s = deps.shared?.();
      this.reset();
      for (let w = 0; w < (s?.rows ?? 0); w++)
        this.inc({ worker: String(w) }, s?.get(w, 'ingest_messages', 'mqtt') ?? 0);
    },
  });
}

/**
 * How often lock-free cache reads retried (a writer was in the shard) or gave up and took the
 * shard lock, and how often writers waited for a lock: every thread's handle, summed.
 */
function cacheReadSeries(registry: Registry, deps: MetricsDeps): void {
  const series = [
    [
      'edgeflow_cache_read_retries_total',
      'readRetries',
      'Lock-free cache reads retried because a writer was inside the shard',
    ],
    [
      'edgeflow_cache_locked_reads_total',
      'lockedReads',
      'Cache reads that gave up retrying and took the shard lock',
    ],
    [
      'edgeflow_cache_lock_waits_total',
      'lockWaits',
      'Cache writes that found their shard locked and slept on it',
    ],
  ] as const;
  for (const [name, field, help] of series) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const c = deps.cacheCounters?.();
        if (c === undefined) return;
        this.reset();
        this.inc(c[field]);
      },
    });
  }
}

/** The embedded broker: clients, inbound QoS 2 in flight, refusals, expired sessions. */
function mqttSeries(registry: Registry, deps: MetricsDeps) {
  const mqttClients = new Gauge({
    name: 'edgeflow_mqtt_clients_connected',
    help: 'MQTT clients connected to the embedded broker',
    registers: [registry],
    collect() {
      this.set(deps.mqttClients());
    },
  });
  const inflight = deps.inflightInbound;
  const mqttInflightInbound = new Gauge({
    name: 'edgeflow_mqtt_inflight_inbound',
    help: 'Incoming QoS 2 messages received (durably) and awaiting PUBREL',
    registers: [registry],
    collect() {
      this.set(inflight?.() ?? 0);
    },
  });
  const mqttViolations = new Counter({
    name: 'edgeflow_mqtt_violations_total',
    help: 'Client actions refused by the embedded broker, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of VIOLATION_KINDS) {
    mqttViolations.inc({ kind }, 0);
  }
  mergeShared(mqttViolations, 'kind', VIOLATION_KINDS, 'mqtt_violations', deps.shared);
  const mqttSessionsExpired = new Counter({
    name: 'edgeflow_mqtt_sessions_expired_total',
    help: 'Persistent sessions dropped because their client stayed away longer than mqtt.sessionExpirySec',
    registers: [registry],
  });
  mergeShared(mqttSessionsExpired, undefined, [undefined], 'mqtt_sessions_expired', deps.shared);
  workerSeries(registry, deps);
  return { mqttClients, mqttInflightInbound, mqttViolations, mqttSessionsExpired };
}
