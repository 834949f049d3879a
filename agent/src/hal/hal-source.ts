import { createHal, type Hal, type HalConfig } from '@edgeflow/hal';
import type { Logger } from 'pino';
import type { ReadingInput } from '../cache/reading.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import { deviceTopicLevel } from '../device-id.js';

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
  readonly #log: Logger;

  private constructor(hal: Hal, log: Logger) {
    this.hal = hal;
    this.#log = log;
  }

  static async start(config: HalConfig, deps: HalSourceDeps): Promise<HalSource> {
    const { log, cache, metrics } = deps;
    const hal = await createHal(config, {});
    const device = deviceTopicLevel(deps.deviceId);
    hal.on('reading', (r) => {
      cache.store(r.key, {
        value: r.value,
        unit: r.unit === '' ? null : r.unit,
        ts: r.ts,
        source: r.source,
        quality: r.quality,
      });
      metrics.ingestMessages.inc({ source: 'hal' });
    });
    hal.on('edge', (e) => {
      const body = { ...e, timestampNs: e.timestampNs.toString() };
      deps.publish?.(`events/${device}/gpio/${e.name}`, Buffer.from(JSON.stringify(body)));
    });
    hal.on('problem', (p) => {
      log.warn(
        {
          event: 'hal.problem',
          source: p.source,
          code: p.error.code,
          attempt: p.attempt,
          retryInMs: p.retryInMs,
          err: p.error.message,
        },
        'hal source failing; retrying',
      );
    });
    await hal.start();
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
    return new HalSource(hal, log);
  }

  async stop(): Promise<void> {
    try {
      await this.hal.stop();
    } catch (err) {
      this.#log.warn({ event: 'hal.stop_failed', err }, 'hal stop failed');
    }
  }
}
