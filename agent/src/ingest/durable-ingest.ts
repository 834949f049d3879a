import type { Logger } from 'pino';
import type { DurablePersistence } from '../broker/durable-persistence.js';
import type { IngestCounters } from '../metrics/shared-counters.js';
import type { DurableSink } from '../broker/durable-persistence.js';
import type { WalRecord } from '../wal/records.js';
import type { IngestPipeline } from './pipeline.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { mqttSource } from './source-name.js';

export interface PublishInfo {
  qos: 0 | 1 | 2;
  messageId: number | undefined;
}

export interface DurableIngestDeps {
  pipeline: IngestPipeline;
  durable: Pick<DurableSink, 'write'>;
  persistence: Pick<DurablePersistence, 'forgetIncoming' | 'takeEnqueue'>;
  metrics: Pick<IngestCounters, 'walErrors'>;
  log: Logger;
  now: () => number;
}

/**
 * The durable ingest step, run in aedes's `published` hook (which gates PUBREC): decodes the
 * message, appends ONE log record holding both "packet id P from client C received" and the
 * readings, and resolves after the group fsync that covers it. The readings reach the cache
 * at that moment (in log order), so the cache never shows what a crash could take back.
 *
 * If the record cannot be made durable (disk full, I/O error) the promise rejects: aedes then
 * closes the connection without PUBREC, the id is forgotten so that the client's
 * retransmission is applied, and the error is counted and logged once per window.
 */
export class DurableIngest {
  readonly #deps: DurableIngestDeps;
  readonly #errLog: RateLimitedLog;

  constructor(deps: DurableIngestDeps, errorLogWindowMs: number) {
    this.#deps = deps;
    this.#errLog = new RateLimitedLog(errorLogWindowMs, deps.now);
  }

  /** Returns undefined when there is nothing to make durable (QoS 0/1 with no reading). */
  handle(
    topic: string,
    payload: Uint8Array,
    clientId: string,
    info: PublishInfo,
  ): Promise<void> | undefined {
    const { pipeline, durable } = this.#deps;
    const prepared = pipeline.prepare(topic, payload, mqttSource(clientId));
    const readings = prepared.kind === 'readings' ? prepared.readings : [];
    const qos2 = info.qos === 2 && info.messageId !== undefined;
    if (!qos2 && readings.length === 0) return undefined;
    const at = this.#deps.now();
    const rec: WalRecord = { t: 'p' };
    if (qos2) {
      rec.c = clientId;
      rec.m = info.messageId as number;
      rec.topic = topic;
      const q = this.#deps.persistence.takeEnqueue(clientId, rec.m);
      if (q !== undefined) rec.q = q;
    }
    if (readings.length > 0) {
      rec.r = readings.map(({ key, input }) => ({
        k: key,
        v: input.value,
        u: input.unit,
        ts: input.ts,
        src: input.source,
        q: input.quality,
        at,
      }));
    }
    const apply = () => {
      for (const r of readings) pipeline.applyQuiet(r.key, r.input, at);
    };
    return new Promise<void>((resolve, reject) =>
      durable.write(rec, readings.length > 0 ? apply : undefined, (err) => {
        if (err === undefined) resolve();
        else
          this.#failed(err, clientId, qos2 ? info.messageId : undefined).then(
            () => reject(err),
            () => reject(err),
          );
      }),
    );
  }

  async #failed(err: Error, clientId: string, messageId: number | undefined): Promise<void> {
    this.#deps.metrics.walErrors.inc();
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    this.#errLog.warn(
      this.#deps.log,
      code,
      { event: 'wal.append_failed', code, err: err.message, clientId },
      'message not acknowledged: write-ahead log append failed',
    );
    if (messageId !== undefined) await this.#deps.persistence.forgetIncoming(clientId, messageId);
  }
}
