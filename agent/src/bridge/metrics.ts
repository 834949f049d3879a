import { Counter, Gauge, type Registry } from 'prom-client';

/** What the bridge metrics read at scrape time. */
export interface BridgeState {
  readonly backlogMessages: number;
  readonly backlogBytes: number;
  readonly oldestAt: number | undefined;
  readonly connected: boolean;
  /** Aggregation windows open (keys x rules). */
  readonly openWindows: number;
}

/** Counters of `bridge.aggregate`. */
export interface AggregateMetrics {
  readings: Counter;
  windows: Counter<'partial'>;
  skipped: Counter<'reason'>;
}

export interface BridgeMetrics {
  dropped: Counter<'reason'>;
  forwarded: Counter;
  aggregate: AggregateMetrics;
}

/**
 * The `edgeflow_bridge_*` series, registered on the agent's registry (kept out of
 * metrics/metrics.ts so that the bridge stays one self-contained unit).
 */
export function registerBridgeMetrics(
  registry: Registry,
  state: () => BridgeState | undefined,
  now: () => number,
): BridgeMetrics {
  const gauge = (name: string, help: string, read: (s: BridgeState) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = state();
        this.set(s === undefined ? 0 : read(s));
      },
    });
  gauge(
    'edgeflow_bridge_backlog_messages',
    'Messages in the outbox not yet acknowledged upstream',
    (s) => s.backlogMessages,
  );
  gauge(
    'edgeflow_bridge_backlog_bytes',
    'Bytes of the undelivered outbox records (framed)',
    (s) => s.backlogBytes,
  );
  gauge(
    'edgeflow_bridge_oldest_age_seconds',
    'Age of the oldest undelivered outbox message (0 when empty)',
    (s) => (s.oldestAt === undefined ? 0 : Math.max(0, (now() - s.oldestAt) / 1000)),
  );
  gauge('edgeflow_bridge_connected', '1 when the upstream connection is up', (s) =>
    s.connected ? 1 : 0,
  );
  const dropped = new Counter({
    name: 'edgeflow_bridge_dropped_total',
    help: 'Messages not forwarded: full (outbox full, drop-oldest) or too_large (above outbox.maxBytes)',
    labelNames: ['reason'],
    registers: [registry],
  });
  dropped.inc({ reason: 'full' }, 0);
  dropped.inc({ reason: 'too_large' }, 0);
  const forwarded = new Counter({
    name: 'edgeflow_bridge_forwarded_total',
    help: 'Messages acknowledged by the upstream broker (PUBACK / PUBCOMP)',
    registers: [registry],
  });
  gauge(
    'edgeflow_bridge_aggregate_open_windows',
    'Aggregation windows in progress (one per sensor key and rule)',
    (s) => s.openWindows,
  );
  const readings = new Counter({
    name: 'edgeflow_bridge_aggregated_readings_total',
    help: 'Readings added to an aggregation window (bridge.aggregate)',
    registers: [registry],
  });
  const windows = new Counter({
    name: 'edgeflow_bridge_windows_emitted_total',
    help: 'Window summaries put into the outbox; partial="true" when readings may be missing (first window after a crash)',
    labelNames: ['partial'],
    registers: [registry],
  });
  windows.inc({ partial: 'false' }, 0);
  windows.inc({ partial: 'true' }, 0);
  const skipped = new Counter({
    name: 'edgeflow_bridge_aggregate_skipped_total',
    help: 'Messages matched by an aggregate rule that carried no reading: not_sensor_topic or undecodable',
    labelNames: ['reason'],
    registers: [registry],
  });
  skipped.inc({ reason: 'not_sensor_topic' }, 0);
  skipped.inc({ reason: 'undecodable' }, 0);
  return { dropped, forwarded, aggregate: { readings, windows, skipped } };
}
