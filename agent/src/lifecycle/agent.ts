import type { AddressInfo } from 'node:net';
import { SensorCache } from '../cache/sensor-cache.js';
import { SnapshotStore } from '../cache/snapshot.js';
import type { AgentConfig } from '../config/schema.js';
import { createMetrics, type AgentMetrics } from '../metrics/metrics.js';
import { agentParts } from './agent-parts.js';
import type { AgentContext, AgentDeps } from './context.js';
import { PartRunner, type AgentPart } from './part.js';

export type { AgentDeps } from './context.js';

export interface AgentAddresses {
  mqtt: AddressInfo | undefined;
  http: AddressInfo;
}

/**
 * The running agent: the parts of agent-parts.ts started in order (data dir → restore the
 * cache → bridge, broker, external subscriber, HAL → HTTP → OTA trial, commands), then READY=1
 * and each part's `ready` (watchdog pings, the trial's READY report). Stop: STOPPING=1, then the
 * parts in reverse (HTTP and broker close, in-flight QoS 2 drain, final snapshot, lock).
 */
export class Agent {
  readonly cache: SensorCache;
  readonly metrics: AgentMetrics;
  readonly #ctx: AgentContext;
  readonly #parts = new PartRunner();
  #stopping: Promise<void> | undefined;

  private constructor(config: AgentConfig, deps: AgentDeps) {
    this.cache = new SensorCache(
      {
        shards: config.cache.shards,
        capacity: config.cache.capacity,
        stringBytes: config.cache.stringBytes,
        now: deps.now,
      },
      deps.cacheMapDeps,
    );
    const units: AgentContext['units'] = { restored: false };
    this.metrics = createMetrics({
      cacheSize: () => this.cache.size,
      mqttClients: () => units.broker?.connectedClients ?? 0,
      inflightInbound: () =>
        (units.durable?.inflightIncoming ?? 0) + (units.broker?.inflightIncoming ?? 0),
      shared: () => units.ingestWorkers?.counters,
      cacheCounters: () => {
        const own = this.cache.counters();
        const w = units.ingestWorkers?.cacheCounters();
        return {
          readRetries: own.readRetries + (w?.readRetries ?? 0),
          lockedReads: own.lockedReads + (w?.lockedReads ?? 0),
          lockWaits: own.lockWaits + (w?.lockWaits ?? 0),
        };
      },
      defaultMetrics: deps.defaultMetrics ?? true,
      fleet: {
        board: () => units.hal?.boardSummary(),
        gpio: () => units.hal?.hal.gpio(),
        // Optional chain: the attestation plugin decorates the instance once it is registered.
        attestation: () =>
          (units.http?.attestation as { status: { state: string } } | undefined)?.status.state,
        otaRoot: config.ota.root,
      },
    });
    this.#ctx = {
      config,
      deps,
      log: deps.log,
      cache: this.cache,
      metrics: this.metrics,
      snapshots: new SnapshotStore(config.dataDir),
      units,
    };
  }

  /** Starts every part (`parts`: tests may pass their own list); a failure stops what started. */
  static async start(
    config: AgentConfig,
    deps: AgentDeps,
    parts: readonly AgentPart[] = agentParts(),
  ): Promise<Agent> {
    const agent = new Agent(config, deps);
    try {
      await agent.#start(parts);
    } catch (err) {
      await agent.stop('start failed').catch(() => undefined);
      throw err;
    }
    return agent;
  }

  async #start(parts: readonly AgentPart[]): Promise<void> {
    const { deps, config } = this.#ctx;
    await this.#parts.start(parts, this.#ctx);
    const addr = this.addresses;
    deps.log.info(
      {
        event: 'agent.listening',
        mqtt: addr.mqtt ? `mqtt://${addr.mqtt.address}:${addr.mqtt.port}` : null,
        http: addr.http
          ? `${config.http.tls ? 'https' : 'http'}://${addr.http.address}:${addr.http.port}`
          : null,
        dataDir: config.dataDir,
        sensors: this.cache.size,
      },
      'agent ready',
    );
    deps.notifier.ready();
    deps.notifier.status(`serving ${this.cache.size} sensors`);
    await this.#parts.ready(this.#ctx);
  }

  get addresses(): AgentAddresses {
    const { units } = this.#ctx;
    return {
      mqtt: units.broker?.address,
      http: units.http?.server.address() as AddressInfo,
    };
  }

  /** Graceful stop; idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const { log, notifier } = this.#ctx.deps;
    log.info({ event: 'agent.stopping', reason }, 'agent stopping');
    notifier.stopping();
    await this.#parts.stop(this.#ctx);
    log.info({ event: 'agent.stopped', sensors: this.cache.size }, 'agent stopped');
  }
}
