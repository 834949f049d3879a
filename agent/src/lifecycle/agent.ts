import { mkdir, access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { EmbeddedBroker } from '../broker/embedded-broker.js';
import { DurableIngest } from '../ingest/durable-ingest.js';
import { durableLocalStore } from '../ingest/durable-local.js';
import { DurableLog } from '../wal/durable-log.js';
import { DataDirLock } from './data-dir-lock.js';
import { startEmbeddedIngest } from './embedded-ingest.js';
import { mqttSource } from '../ingest/source-name.js';
import { SensorCache } from '../cache/sensor-cache.js';
import { SnapshotStore } from '../cache/snapshot.js';
import type { AgentConfig } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { buildHttpServer } from '../http/server.js';
import { IngestPipeline } from '../ingest/pipeline.js';
import { createMetrics, type AgentMetrics } from '../metrics/metrics.js';
import { HalSource } from '../hal/hal-source.js';
import { OtaTrial } from '../ota/ota-trial.js';
import { MqttCommands } from '../commands/mqtt-commands.js';
import { deviceTopicLevel } from '../device-id.js';
import { attestationPlugin } from '../attestation/index.js';
import { agentVersion } from '../version.js';
import { ExternalSubscriber } from '../external/external-subscriber.js';
import { UpstreamBridge } from '../bridge/upstream-bridge.js';
import { type SystemdNotifier, watchdogIntervalMs } from './systemd-notify.js';

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
}

export interface AgentAddresses {
  mqtt: AddressInfo | undefined;
  http: AddressInfo;
}

/**
 * The running agent, composed from its units. Start order: data dir → restore the cache
 * snapshot → broker → HTTP → READY=1 → watchdog. Stop: STOPPING=1 → HTTP and broker close
 * (in-flight QoS 2 handlers finish) → snapshot → done.
 */
export class Agent {
  readonly cache: SensorCache;
  readonly metrics: AgentMetrics;
  readonly #config: AgentConfig;
  readonly #deps: AgentDeps;
  readonly #snapshots: SnapshotStore;
  #broker: EmbeddedBroker | undefined;
  /** The write-ahead log (ingest.durability = wal). */
  #durable: DurableLog | undefined;
  #http: FastifyInstance | undefined;
  #hal: HalSource | undefined;
  #ota: OtaTrial | undefined;
  #commands: MqttCommands | undefined;
  #external: ExternalSubscriber | undefined;
  #bridge: UpstreamBridge | undefined;
  #restored = false;
  #timers: NodeJS.Timeout[] = [];
  #stopping: Promise<void> | undefined;
  #lock: DataDirLock | undefined;

  private constructor(config: AgentConfig, deps: AgentDeps) {
    this.#config = config;
    this.#deps = deps;
    this.cache = new SensorCache({ shards: config.cache.shards, now: deps.now });
    this.#snapshots = new SnapshotStore(config.dataDir);
    this.metrics = createMetrics({
      cacheSize: () => this.cache.size,
      mqttClients: () => this.#broker?.connectedClients ?? 0,
      inflightInbound: () => this.#durable?.inflightIncoming ?? 0,
      defaultMetrics: deps.defaultMetrics ?? true,
    });
  }

  static async start(config: AgentConfig, deps: AgentDeps): Promise<Agent> {
    const agent = new Agent(config, deps);
    try {
      await agent.#start();
    } catch (err) {
      await agent.stop('start failed').catch(() => undefined);
      throw err;
    }
    return agent;
  }

  async #start(): Promise<void> {
    const { log } = this.#deps;
    await this.#prepareDataDir();
    this.#lock = await DataDirLock.acquire(this.#config.dataDir);
    await this.#restore();

    const ingest = new IngestPipeline(
      {
        sensorPrefix: this.#config.mqtt.sensorPrefix,
        maxPayloadBytes: this.#config.mqtt.maxPayloadBytes,
        rejectLogWindowMs: this.#config.ingest.rejectLogWindowSec * 1000,
      },
      {
        cache: this.cache,
        metrics: this.metrics,
        log: log.child({ component: 'ingest' }),
        now: this.#deps.now,
        deadLetter: (topic, payload, reason, detail, code) =>
          this.#deadLetter(topic, payload, { code, reason, detail }),
      },
    );

    if (this.#config.bridge !== undefined) {
      this.#bridge = await UpstreamBridge.start(this.#config.bridge, {
        log: log.child({ component: 'bridge' }),
        env: this.#deps.env,
        now: this.#deps.now,
        outboxDir: join(this.#config.dataDir, 'outbox'),
        registry: this.metrics.registry,
        sensorPrefix: this.#config.mqtt.sensorPrefix,
        maxPayloadBytes: this.#config.mqtt.maxPayloadBytes,
      });
    }

    if (this.#config.mqtt.embedded) {
      this.#broker = await startEmbeddedIngest({
        config: this.#config,
        durable: this.#durable,
        pipeline: ingest,
        metrics: this.metrics,
        log,
        now: this.#deps.now,
        command: (topic, payload, clientId, user) =>
          this.#commands?.handle(topic, payload, clientId, user) ?? false,
        offer: (topic, payload) => this.#bridge?.offer(topic, payload),
      });
    }

    const external = this.#config.mqtt.external;
    if (external !== undefined) {
      const durable = this.#durable;
      const window = this.#config.ingest.rejectLogWindowSec * 1000;
      const extIngest =
        durable === undefined
          ? undefined
          : new DurableIngest(
              {
                pipeline: ingest,
                durable,
                // No aedes duplicate filter to undo: the store reads the log's ids.
                persistence: {
                  forgetIncoming: () => Promise.resolve(),
                  takeEnqueue: () => undefined,
                },
                metrics: this.metrics,
                log: log.child({ component: 'wal' }),
                now: this.#deps.now,
              },
              window,
            );
      this.#external = await ExternalSubscriber.start(external, {
        log: log.child({ component: 'external' }),
        env: this.#deps.env,
        now: this.#deps.now,
        durable,
        ingest: (topic, payload, logId, info) => {
          if (extIngest !== undefined) return extIngest.handle(topic, payload, logId, info);
          ingest.handle(topic, payload, mqttSource(logId));
          return undefined;
        },
        beforeIngest: (topic, payload) => this.#bridge?.offer(topic, payload),
        onDuplicate: () => this.metrics.ingestDuplicates.inc(),
        rejectLogWindowMs: window,
      });
    }

    const durable = this.#durable;
    this.#hal = await HalSource.start(this.#config.hal, {
      // With the write-ahead log, HAL readings are logged before they reach the cache.
      cache:
        durable === undefined
          ? this.cache
          : {
              store: durableLocalStore(
                {
                  durable,
                  cache: this.cache,
                  metrics: this.metrics,
                  log: log.child({ component: 'wal' }),
                  now: this.#deps.now,
                },
                this.#config.ingest.rejectLogWindowSec * 1000,
              ),
            },
      metrics: this.metrics,
      log: log.child({ component: 'hal' }),
      publish: (topic, payload) => this.#broker?.publish(topic, payload),
    });

    this.#http = buildHttpServer({
      log: log.child({ component: 'http' }),
      cache: this.cache,
      registry: this.metrics.registry,
      apiTokens: this.#config.http.apiTokens,
      hal: this.#hal?.hal,
      readiness: [
        {
          name: 'broker',
          ok: () => !this.#config.mqtt.embedded || (this.#broker?.listening ?? false),
        },
        { name: 'cache', ok: () => this.#restored },
        {
          name: 'external',
          ok: () => this.#external === undefined || this.#external.connected > 0,
        },
      ],
    });
    // Not a readiness check: no TPM is a normal state on many boards (one log line says so).
    await this.#http.register(attestationPlugin, {
      config: this.#config.attestation,
      apiTokens: this.#config.http.apiTokens,
      release: `edgeflow@${agentVersion()}`,
      log: log.child({ component: 'attestation' }),
    });
    const http = this.#http;
    this.#commands = new MqttCommands({
      log: log.child({ component: 'commands' }),
      device: deviceTopicLevel(),
      publish: (topic, payload, retain) => this.#broker?.publish(topic, payload, retain),
      hal: this.#hal?.hal,
      attestation: () => http.attestation.responder,
      quoteUsers: this.#config.attestation.access.mqttUsers,
      ota: {
        dataDir: this.#config.dataDir,
        otaRoot: this.#config.ota.root,
        ...this.#config.ota.mqttInstall,
        pollIntervalMs: 2000,
      },
      now: this.#deps.now,
    });
    try {
      await this.#http.listen({
        host: this.#config.http.listen.host,
        port: this.#config.http.listen.port,
      });
    } catch (err) {
      throw new AgentError(
        'EDGEFLOW_LISTEN_FAILED',
        `HTTP listener ${this.#config.http.listen.host}:${this.#config.http.listen.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#startTimers();
    const addr = this.addresses;
    log.info(
      {
        event: 'agent.listening',
        mqtt: addr.mqtt ? `mqtt://${addr.mqtt.address}:${addr.mqtt.port}` : null,
        http: `http://${addr.http.address}:${addr.http.port}`,
        dataDir: this.#config.dataDir,
        sensors: this.cache.size,
      },
      'agent ready',
    );
    this.#ota = await OtaTrial.open(
      {
        root: this.#config.ota.root,
        dataDir: this.#config.dataDir,
        healthIntervalMs: this.#config.ota.healthIntervalSec * 1000,
      },
      {
        log: log.child({ component: 'ota' }),
        now: this.#deps.now,
        healthy: () => this.#health(),
        onRollback: (reason) => this.#deps.requestExit?.(`OTA trial failed: ${reason}`),
      },
    );
    this.#deps.notifier.ready();
    this.#deps.notifier.status(`serving ${this.cache.size} sensors`);
    await this.#ota.ready();
    // After READY: a request pending across the restart into a trial reports where it stands.
    await this.#commands.start();
  }

  /** What an OTA trial counts as healthy: both listeners up and the cache restored. */
  #health(): { ok: boolean; detail: string } {
    const broker = !this.#config.mqtt.embedded || (this.#broker?.listening ?? false);
    const http = this.#http?.server.listening ?? false;
    const ok = broker && http && this.#restored;
    return { ok, detail: `broker=${broker} http=${http} cache=${this.#restored}` };
  }

  async #prepareDataDir(): Promise<void> {
    const dir = this.#config.dataDir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new AgentError(
        'EDGEFLOW_DATA_DIR',
        `data directory ${dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async #restore(): Promise<void> {
    const log = this.#deps.log.child({ component: 'cache' });
    if (this.#config.ingest.durability === 'wal') {
      await this.#recoverWal(log);
      this.#restored = true;
      return;
    }
    const res = await this.#snapshots.load(this.#deps.now());
    if (res.kind === 'loaded') {
      this.cache.restore(res.readings);
      log.info({ event: 'cache.restored', sensors: res.readings.length }, 'cache restored');
    } else if (res.kind === 'corrupt') {
      log.error(
        {
          event: 'cache.snapshot_corrupt',
          code: 'EDGEFLOW_SNAPSHOT_CORRUPT',
          reason: res.reason,
          movedTo: res.movedTo,
        },
        'cache snapshot unreadable; moved aside, starting empty',
      );
    }
    this.#restored = true;
  }

  /** Snapshot + write-ahead log replay (the log says what the snapshot misses), then compaction. */
  async #recoverWal(log: Logger): Promise<void> {
    const { durable, report } = await DurableLog.open(
      {
        dir: join(this.#config.dataDir, 'cache', 'wal'),
        maxSegmentBytes: this.#config.ingest.walSegmentBytes,
      },
      {
        cache: this.cache,
        snapshots: this.#snapshots,
        log: log.child({ component: 'wal' }),
        now: this.#deps.now,
        onSync: (seconds) => this.metrics.walFsyncSeconds.observe(seconds),
      },
    );
    this.#durable = durable;
    if (report.snapshotProblem !== undefined) {
      log.error(
        {
          event: 'cache.snapshot_corrupt',
          code: 'EDGEFLOW_SNAPSHOT_CORRUPT',
          ...report.snapshotProblem,
        },
        'cache snapshot unreadable; moved aside, replaying the write-ahead log onto an empty cache',
      );
    }
    log.info(
      { event: 'cache.restored', sensors: this.cache.size, wal: report },
      'cache restored (snapshot + write-ahead log replay)',
    );
  }

  #startTimers(): void {
    const interval = watchdogIntervalMs(this.#deps.env, this.#deps.pid);
    if (interval !== undefined && this.#deps.notifier.active) {
      // Pinged from a timer on the event loop: a blocked loop stops the pings and systemd
      // restarts the service, which is the point.
      const t = setInterval(() => this.#deps.notifier.watchdog(), interval);
      t.unref();
      this.#timers.push(t);
      this.#deps.notifier.watchdog();
    }
    const snapshotSec = this.#config.cache.snapshotIntervalSec;
    if (snapshotSec > 0) {
      const t = setInterval(() => void this.#snapshot(), snapshotSec * 1000);
      t.unref();
      this.#timers.push(t);
    }
  }

  async #snapshot(): Promise<void> {
    try {
      // With the log, only a checkpoint may write the snapshot: it records which segments it covers.
      if (this.#durable !== undefined) await this.#durable.checkpoint();
      else await this.#snapshots.save(this.cache.values(), this.#deps.now());
      this.metrics.snapshotWrites.inc({ result: 'ok' });
    } catch (err) {
      this.metrics.snapshotWrites.inc({ result: 'error' });
      this.#deps.log.error({ event: 'cache.snapshot_failed', err }, 'cache snapshot failed');
    }
  }

  #deadLetter(
    topic: string,
    payload: Uint8Array,
    why: { code: string; reason: string; detail: string },
  ): void {
    if (this.#broker === undefined) return;
    // The payload travels base64-encoded and capped, so a dead letter is always valid JSON.
    const cap = 1024;
    const body = {
      topic,
      ...why,
      bytes: payload.length,
      payloadBase64: Buffer.from(payload.subarray(0, cap)).toString('base64'),
      truncated: payload.length > cap,
    };
    this.#broker.publish(this.#config.mqtt.deadLetterTopic, Buffer.from(JSON.stringify(body)));
  }

  get addresses(): AgentAddresses {
    return {
      mqtt: this.#broker?.address,
      http: this.#http?.server.address() as AddressInfo,
    };
  }

  /** Graceful stop; idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const { log } = this.#deps;
    log.info({ event: 'agent.stopping', reason }, 'agent stopping');
    this.#deps.notifier.stopping();
    this.#ota?.stop();
    this.#commands?.stop();
    for (const t of this.#timers) clearInterval(t);
    await this.#http?.close();
    await this.#hal?.stop();
    await this.#broker?.close();
    await this.#external?.close();
    // After every producer: the outbox is closed with everything they offered.
    await this.#bridge?.close();
    if (this.#durable !== undefined) {
      // drains in-flight groups and writes the final checkpoint
      await this.#durable
        .close()
        .then(() => this.metrics.snapshotWrites.inc({ result: 'ok' }))
        .catch((err: unknown) => {
          this.metrics.snapshotWrites.inc({ result: 'error' });
          log.error({ event: 'cache.snapshot_failed', err }, 'final checkpoint failed');
        });
    } else if (this.#restored) await this.#snapshot();
    await this.#lock?.release();
    log.info({ event: 'agent.stopped', sensors: this.cache.size }, 'agent stopped');
  }
}
