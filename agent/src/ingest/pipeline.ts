import type { Logger } from 'pino';
import type { SensorCache } from '../cache/sensor-cache.js';
import type { Reading } from '../cache/reading.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import { decodePayload, type RejectReason } from './decode.js';
import { matchSensorTopic } from './topic.js';
import { RateLimitedLog } from './rate-limited-log.js';

export interface IngestOptions {
  sensorPrefix: string;
  maxPayloadBytes: number;
  rejectLogWindowMs: number;
}

export interface IngestDeps {
  cache: SensorCache;
  metrics: AgentMetrics;
  log: Logger;
  now: () => number;
  /** Sends a rejected message to the dead-letter topic (best effort, never throws). */
  deadLetter: (topic: string, payload: Uint8Array, reason: RejectReason, detail: string) => void;
}

export type IngestOutcome =
  | { kind: 'stored'; reading: Reading }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

/**
 * Turns one MQTT message into a cache update. Never throws: a bad message is counted, logged
 * once per window and dead-lettered; the pipeline keeps going.
 */
export class IngestPipeline {
  readonly #opts: IngestOptions;
  readonly #deps: IngestDeps;
  readonly #rejectLog: RateLimitedLog;

  constructor(opts: IngestOptions, deps: IngestDeps) {
    this.#opts = opts;
    this.#deps = deps;
    this.#rejectLog = new RateLimitedLog(opts.rejectLogWindowMs, deps.now);
  }

  handle(topic: string, payload: Uint8Array, source: string): IngestOutcome {
    const match = matchSensorTopic(topic, this.#opts.sensorPrefix);
    if (match.kind === 'outside') return { kind: 'ignored' };
    if (match.kind === 'bad')
      return this.#reject(topic, payload, 'bad_topic', match.reason, source);
    const now = this.#deps.now();
    const decoded = decodePayload(payload, now, this.#opts.maxPayloadBytes);
    if (!decoded.ok) return this.#reject(topic, payload, decoded.reason, decoded.detail, source);
    const reading = this.#deps.cache.store(match.key, { ...decoded.reading, source });
    this.#deps.metrics.ingestMessages.inc({ source: 'mqtt' });
    return { kind: 'stored', reading };
  }

  #reject(
    topic: string,
    payload: Uint8Array,
    reason: RejectReason,
    detail: string,
    source: string,
  ): IngestOutcome {
    this.#deps.metrics.ingestRejected.inc({ reason });
    this.#rejectLog.warn(
      this.#deps.log,
      reason,
      { event: 'ingest.rejected', topic, source, detail, bytes: payload.length },
      'sensor message rejected',
    );
    this.#deps.deadLetter(topic, payload, reason, detail);
    return { kind: 'rejected', reason, detail };
  }
}
