import type { Logger } from 'pino';
import type { SensorCache } from '../cache/sensor-cache.js';
import type { Reading, ReadingInput } from '../cache/reading.js';
import type { IngestCounters } from '../metrics/shared-counters.js';
import type { AgentErrorCode } from '../errors.js';
import { decodeMessage, REJECT_REASONS, type RejectReason } from './decode.js';
import { isValidSegment, matchSensorTopic } from './topic.js';
import { SharedLogWindow } from '../broker/shared-log-window.js';
import { RateLimitedLog } from './rate-limited-log.js';

export interface IngestOptions {
  sensorPrefix: string;
  maxPayloadBytes: number;
  rejectLogWindowMs: number;
  /**
   * The reject log's window shared with the other ingest workers' pipelines
   * ({@link pipelineLogBuffer}), so that a reason is logged once per agent and window.
   */
  rejectLog?: SharedArrayBuffer;
}

/** The reasons a pipeline logs: every rejection, and a full cache. */
const PIPELINE_LOG_REASONS: readonly string[] = [...REJECT_REASONS, 'cache_full'];

/** A reject-log window for {@link IngestOptions.rejectLog}, to share between threads. */
export function pipelineLogBuffer(): SharedArrayBuffer {
  return SharedLogWindow.buffer(PIPELINE_LOG_REASONS.length);
}

export interface IngestDeps {
  cache: SensorCache;
  metrics: Pick<IngestCounters, 'ingestMessages' | 'ingestRejected' | 'cacheFull'>;
  log: Logger;
  now: () => number;
  /** Sends a rejected message to the dead-letter topic (best effort, never throws). */
  deadLetter: (
    topic: string,
    payload: Uint8Array,
    reason: RejectReason,
    detail: string,
    code: IngestRejectCode,
  ) => void;
}

/** The catalog code a rejection carries in its log line and dead letter. */
export type IngestRejectCode = Extract<AgentErrorCode, `EDGEFLOW_INGEST_${string}`>;

/** The code of each rejection reason: the topic, the size, or what the payload holds. */
export function rejectCode(reason: RejectReason): IngestRejectCode {
  if (reason === 'bad_topic') return 'EDGEFLOW_INGEST_BAD_TOPIC';
  if (reason === 'too_large') return 'EDGEFLOW_INGEST_PAYLOAD_TOO_LARGE';
  if (reason === 'reading_too_large') return 'EDGEFLOW_INGEST_READING_TOO_LARGE';
  return 'EDGEFLOW_INGEST_BAD_PAYLOAD';
}

export type IngestOutcome =
  | { kind: 'stored'; reading: Reading; readings: Reading[] }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

export interface PreparedReading {
  key: string;
  input: ReadingInput;
}

export type Prepared =
  | { kind: 'readings'; readings: PreparedReading[] }
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
  /** The labelled child, resolved once: a label lookup per message costs a hash of the labels. */
  readonly #accepted: { inc(): void };

  constructor(opts: IngestOptions, deps: IngestDeps) {
    this.#opts = opts;
    this.#deps = deps;
    this.#rejectLog = new RateLimitedLog(
      opts.rejectLogWindowMs,
      deps.now,
      opts.rejectLog && { buffer: opts.rejectLog, reasons: PIPELINE_LOG_REASONS },
    );
    this.#accepted = deps.metrics.ingestMessages.labels('mqtt');
  }

  /** Stores a prepared reading like {@link apply}, without returning it (the durable path). */
  applyQuiet(key: string, input: ReadingInput, receivedAt?: number): void {
    try {
      this.#deps.cache.apply(key, input, receivedAt);
    } catch (err) {
      this.#cacheFull(key, err);
      return;
    }
    this.#accepted.inc();
  }

  #cacheFull(key: string, err: unknown): void {
    this.#deps.metrics.cacheFull.inc();
    this.#rejectLog.warn(
      this.#deps.log,
      'cache_full',
      {
        event: 'cache.full',
        code: (err as { code?: string }).code,
        key,
        err: (err as Error).message,
      },
      'reading logged but not cached: the sensor cache is full',
    );
  }

  /** Decodes and applies at once (the in-memory path). */
  handle(topic: string, payload: Uint8Array, source: string): IngestOutcome {
    const prepared = this.prepare(topic, payload, source);
    if (prepared.kind !== 'readings') return prepared;
    const readings: Reading[] = [];
    for (const r of prepared.readings) {
      const stored = this.apply(r.key, r.input);
      if (stored !== undefined) readings.push(stored);
    }
    const last = readings.at(-1);
    if (last === undefined) return { kind: 'ignored' };
    return { kind: 'stored', reading: last, readings };
  }

  /**
   * Validates and decodes without touching the cache: the durable path logs the result first
   * and applies it once the log is on disk. Rejections are counted, logged and dead-lettered
   * here. A SenML record's resolved name, when not empty, replaces the topic's sensor id
   * (`<prefix>/<device>/<any>` + name `temp` -> key `<device>/temp`).
   */
  prepare(topic: string, payload: Uint8Array, source: string): Prepared {
    const match = matchSensorTopic(topic, this.#opts.sensorPrefix);
    if (match.kind === 'outside') return { kind: 'ignored' };
    if (match.kind === 'bad')
      return this.#reject(topic, payload, 'bad_topic', match.reason, source);
    const now = this.#deps.now();
    const decoded = decodeMessage(payload, now, this.#opts.maxPayloadBytes);
    if (!decoded.ok) return this.#reject(topic, payload, decoded.reason, decoded.detail, source);
    const readings: PreparedReading[] = [];
    for (const r of decoded.readings) {
      if (r.name !== null && r.name !== '' && !isValidSegment(r.name)) {
        const detail = `SenML name ${JSON.stringify(r.name.slice(0, 80))} must match [A-Za-z0-9_.:-]{1,64}`;
        return this.#reject(topic, payload, 'bad_shape', detail, source);
      }
      const key = r.name ? `${match.device}/${r.name}` : match.key;
      const input = { ...r.reading, source };
      // Refused whole, before it is logged or acknowledged: the cache never keeps a cut string.
      const refused = this.#deps.cache.fits(key, input);
      if (refused !== undefined)
        return this.#reject(topic, payload, refused.reason, refused.detail, source);
      readings.push({ key, input });
    }
    return { kind: 'readings', readings };
  }

  /**
   * Stores one prepared reading (with its original receive time on replay). A full cache
   * (EDGEFLOW_CACHE_FULL, a new sensor past cache.capacity) is counted and logged once per
   * window, never thrown: this runs in the log's commit callbacks.
   */
  apply(key: string, input: ReadingInput, receivedAt?: number): Reading | undefined {
    let reading: Reading;
    try {
      reading = this.#deps.cache.store(key, input, receivedAt);
    } catch (err) {
      this.#cacheFull(key, err);
      return undefined;
    }
    this.#accepted.inc();
    return reading;
  }

  #reject(
    topic: string,
    payload: Uint8Array,
    reason: RejectReason,
    detail: string,
    source: string,
  ): { kind: 'rejected'; reason: RejectReason; detail: string } {
    this.#deps.metrics.ingestRejected.inc({ reason });
    const code = rejectCode(reason);
    this.#rejectLog.warn(
      this.#deps.log,
      reason,
      { event: 'ingest.rejected', code, topic, source, detail, bytes: payload.length },
      'sensor message rejected',
    );
    this.#deps.deadLetter(topic, payload, reason, detail, code);
    return { kind: 'rejected', reason, detail };
  }
}
