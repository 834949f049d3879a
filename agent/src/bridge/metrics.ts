import { Counter, Gauge, type Registry } from 'prom-client';

/** What the bridge metrics read at scrape time. */
export interface BridgeState {
  readonly backlogMessages: number;
  readonly backlogBytes: number;
  readonly oldestAt: number | undefined;
  readonly connected: boolean;
}

export interface BridgeMetrics {
  dropped: Counter<'reason'>;
  forwarded: Counter;
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
  return { dropped, forwarded };
}
