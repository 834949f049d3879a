import type { Logger } from 'pino';
import type { ReadingInput } from '../cache/reading.js';
import type { SensorCache } from '../cache/sensor-cache.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import type { DurableLog } from '../wal/durable-log.js';
import { RateLimitedLog } from './rate-limited-log.js';

export interface DurableLocalDeps {
  durable: Pick<DurableLog, 'write'>;
  cache: Pick<SensorCache, 'store'>;
  metrics: Pick<AgentMetrics, 'walErrors'>;
  log: Logger;
  now: () => number;
}

/**
 * The durable path for readings produced inside the agent (HAL pollers): each reading is one
 * write-ahead log record (no packet id: there is no retransmission to filter) and reaches the
 * cache when the group commit covering it returns, so `seq` of a HAL key survives kill -9 like
 * an MQTT key's. Cheap: a HAL reading rides in the group commit of whatever else is being
 * written (one more record of ~60 bytes), and pollers run at human rates.
 *
 * Returns a `store` with the signature of SensorCache.store minus its result (the reading is
 * applied later). On a failed append (disk full) the reading is dropped, counted in
 * `edgeflow_wal_errors_total` and logged once per window: the next poll brings a fresh one.
 */
export function durableLocalStore(
  deps: DurableLocalDeps,
  errorLogWindowMs: number,
): (key: string, input: ReadingInput) => void {
  const errLog = new RateLimitedLog(errorLogWindowMs, deps.now);
  return (key, input) => {
    const at = deps.now();
    deps.durable.write(
      {
        t: 'p',
        r: [
          {
            k: key,
            v: input.value,
            u: input.unit,
            ts: input.ts,
            src: input.source,
            q: input.quality,
            at,
          },
        ],
      },
      () => {
        // In the log's commit callbacks: never throw (a full cache is counted by the cache's
        // own metric path in the pipeline; here, logged once per window).
        try {
          deps.cache.store(key, input, at);
        } catch (err) {
          errLog.warn(
            deps.log,
            'not_cached',
            { event: 'cache.full', code: (err as { code?: string }).code, key },
            'local reading logged but not cached',
          );
        }
      },
      (err) => {
        if (err === undefined) return;
        deps.metrics.walErrors.inc();
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        errLog.warn(
          deps.log,
          code,
          { event: 'wal.append_failed', code, err: err.message, key },
          'local reading dropped: write-ahead log append failed',
        );
      },
    );
  };
}
