import { createHal, deviceGaps, type Hal, type HalConfig } from '@edgeflow/hal';
import type { Logger } from 'pino';
import type { ReadingInput } from '../cache/reading.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import { deviceTopicLevel } from '../device-id.js';
import { SensorStatusTracker } from './hal-status.js';

export interface HalSourceDeps {
  /** Where readings go: the cache, or the durable path in front of it (write-ahead log). */
  cache: { store(key: string, input: ReadingInput): unknown };
  metrics: AgentMetrics;
  log: Logger;
  /** Publishes a GPIO edge event on the embedded broker (absent when it is off). */
  publish?: (topic: string, payload: Buffer) => void;
  deviceId?: string;
}

/**
 * Feeds on-board sensors and GPIO inputs into the cache: HAL readings become cache entries
 * (`hal.<id>/<quantity>`), input edges also become MQTT events
 * `events/<device>/gpio/<line>`. Expected failures (a sensor that does not answer) are
 * warnings: the HAL retries with backoff and marks the reading stale.
 */
export class HalSource {
  readonly hal: Hal;
  /** Every configured sensor accounted for (GET /v1/hal/sensors). */
  readonly status: SensorStatusTracker;
  readonly #log: Logger;
  readonly #devicesMissing: number;

  private constructor(hal: Hal, status: SensorStatusTracker, log: Logger, devicesMissing: number) {
    this.hal = hal;
    this.status = status;
    this.#log = log;
    this.#devicesMissing = devicesMissing;
  }

  /** Board profile, how it was matched, and how many expected devices are not visible. */
  boardSummary(): { id: string; matchedBy: string; devicesMissing: number } {
    const b = this.hal.board;
    return { id: b.profile.id, matchedBy: b.matchedBy, devicesMissing: this.#devicesMissing };
  }

  static async start(config: HalConfig, deps: HalSourceDeps): Promise<HalSource> {
    const { log, cache, metrics } = deps;
    const hal = await createHal(config, {});
    const device = deviceTopicLevel(deps.deviceId);
    // The HAL names a poll by its source (`i2c-1/0x76/bme280`); dashboards want the sensor id.
    const sensorOf = new Map(
      hal.sensors().map((s) => [`i2c-${s.bus}/0x${s.address.toString(16)}/${s.type}`, s]),
    );
    const { halSensorUp, halSensorErrors } = metrics.fleet;
    const status = new SensorStatusTracker(hal);
    hal.on('reading', (r) => {
      status.onReading(r);
      cache.store(r.key, {
        value: r.value,
        unit: r.unit === '' ? null : r.unit,
        ts: r.ts,
        source: status.mark(r.source),
        quality: r.quality,
      });
      metrics.ingestMessages.inc({ source: 'hal' });
      const sensor = sensorOf.get(r.source);
      if (sensor !== undefined && r.quality === 'good') {
        halSensorUp.set({ sensor: sensor.id, type: sensor.type }, 1);
      }
    });
    hal.on('edge', (e) => {
      const body = { ...e, timestampNs: e.timestampNs.toString() };
      deps.publish?.(`events/${device}/gpio/${e.name}`, Buffer.from(JSON.stringify(body)));
    });
    hal.on('problem', (p) => {
      const sensor = sensorOf.get(p.source);
      if (sensor !== undefined) {
        halSensorUp.set({ sensor: sensor.id, type: sensor.type }, 0);
        halSensorErrors.inc({ sensor: sensor.id, code: p.error.code });
      }
      status.onProblem(p, Date.now());
      log.warn(
        {
          event: 'hal.problem',
          source: p.source,
          code: p.error.code,
          attempt: p.attempt,
          retryInMs: p.retryInMs,
          err: p.error.message,
        },
        // A problem without retryInMs is not tried again (a pin the board does not have).
        p.retryInMs === undefined
          ? `hal source failing (not retried): ${p.error.message}`
          : `hal source failing; retrying in ${p.retryInMs} ms: ${p.error.message}`,
      );
    });
    // Every configured sensor appears from the start (down until its first good poll), and its
    // error counter at 0, so that a dashboard sees it before anything happens.
    for (const s of hal.sensors()) halSensorUp.set({ sensor: s.id, type: s.type }, 0);
    await hal.start();
    if (status.simulated)
      // Invented readings must never pass for hardware: say so where operators look.
      log.warn(
        {
          event: 'hal.simulated',
          board: hal.board.profile.id,
          requested: config.board,
          fallback: config.board !== 'sim',
          sensors: hal.sensors().length,
        },
        config.board === 'sim'
          ? 'hal runs on the simulator board (hal.board: sim): readings are simulated, sources start with sim:'
          : 'no board detected: hal fell back to the simulator (hal.fallbackToSim): readings are simulated, sources start with sim:',
      );
    log.info(
      {
        event: 'hal.started',
        board: hal.board.profile.id,
        matchedBy: hal.board.matchedBy,
        sensors: hal.sensors().map((s) => `${s.type}:${s.id}@${s.bus}/0x${s.address.toString(16)}`),
        gpio: hal.gpio().length,
      },
      'hal started',
    );
    warnRootMissing(hal, config.root, log);
    const missing = warnDeviceGaps(hal, log);
    return new HalSource(hal, status, log, missing);
  }

  async stop(): Promise<void> {
    try {
      await this.hal.stop();
    } catch (err) {
      this.#log.warn({ event: 'hal.stop_failed', err }, 'hal stop failed');
    }
  }
}

/** A wrong hal.root reads as a host without hardware: say it is the path. */
function warnRootMissing(hal: Hal, root: string, log: Logger): void {
  if (hal.board.rootMissing !== true) return;
  log.warn(
    { event: 'hal.root_missing', root, board: hal.board.profile.id },
    `hal.root ${root} does not exist: no board can be detected under it (profile ${hal.board.profile.id}, no simulated readings); fix hal.root`,
  );
}

/**
 * A recognised board whose devices are not visible is a setup problem (the unit runs without the
 * hardware drop-in, or a bus is not enabled), not a quiet "no sensors": say so at warn, with what
 * happens to the configured sensors (polled with backoff until their bus appears).
 */
function warnDeviceGaps(hal: Hal, log: Logger): number {
  const gaps = deviceGaps(hal.board, hal.sensors());
  if (gaps.missing.length === 0) return 0;
  const sensors =
    gaps.waitingSensors.length === 0
      ? 'no configured sensor needs them'
      : `sensors ${gaps.waitingSensors.join(', ')} are polled with backoff and have no reading until their bus appears`;
  log.warn(
    {
      event: 'hal.devices_missing',
      board: hal.board.profile.id,
      missing: gaps.missing,
      waitingSensors: gaps.waitingSensors,
    },
    `board ${hal.board.profile.id} recognised but ${gaps.missing.length} of its devices are not visible (under systemd: install edgeflow-agent.service.d/hardware.conf); ${sensors}`,
  );
  return gaps.missing.length;
}
