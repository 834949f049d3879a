import type { ComponentChildren } from 'preact';
import type { Overview } from '../api/types.js';
import { formatDuration, formatNumber, formatTime } from '../lib/format.js';

function Dl({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl>{rows.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}</dl>
  );
}

interface CardProps {
  readonly o: Overview;
  /** Latest value of a health series (null when none sampled yet). */
  readonly latest: (series: string) => number | null;
  /** Agent clock now. */
  readonly now: number;
}

function Gateway({ o, now }: CardProps) {
  return (
    <div class="card">
      <h2>Gateway</h2>
      <Dl
        rows={[
          ['Host', o.agent.hostname],
          ['Board', o.board ? `${o.board.name} (${o.board.id})` : 'no HAL'],
          ['Version', <code>{o.agent.version}</code>],
          ['Uptime', formatDuration((now - o.agent.startedAt) / 1000)],
          ['Node.js', o.agent.node],
        ]}
      />
    </div>
  );
}

function Readiness({ o }: CardProps) {
  return (
    <div class="card">
      <h2>Readiness</h2>
      <p class={o.readiness.ready ? 'ok big' : 'bad big'}>
        {o.readiness.ready ? 'Ready' : 'Not ready'}
      </p>
      <ul class="checks">
        {Object.entries(o.readiness.checks).map(([k, ok]) => (
          <li key={k}>
            <span class={ok ? 'ok' : 'bad'}>{ok ? '✓' : '✗'}</span> {k}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Ingest({ o, latest }: CardProps) {
  return (
    <div class="card">
      <h2>Ingest now</h2>
      <Dl
        rows={[
          ['Readings', `${formatNumber(latest('ingestRate'))} /s`],
          ['p99 delay', `${formatNumber(latest('delayP99Ms'))} ms`],
          ['Rejected', `${formatNumber(latest('rejectedRate'))} /s`],
          ['WAL fsync p99', `${formatNumber(latest('walFsyncP99Ms'))} ms`],
          ['Sensors', formatNumber(o.counts.sensors)],
          ['MQTT clients', formatNumber(o.counts.mqttClients)],
        ]}
      />
    </div>
  );
}

function Resources({ latest }: CardProps) {
  return (
    <div class="card">
      <h2>Resources</h2>
      <Dl
        rows={[
          ['CPU', `${formatNumber(latest('cpuPercent'))} %`],
          ['RSS', `${formatNumber(latest('rssMiB'))} MiB`],
          ['Disk used', `${formatNumber(latest('diskUsedPercent'))} %`],
          ['Event loop p99', `${formatNumber(latest('loopP99Ms'))} ms`],
        ]}
      />
    </div>
  );
}

function LastUpdate({ o }: CardProps) {
  const last = o.ota.last;
  return (
    <div class="card">
      <h2>Last update</h2>
      {o.ota.error ? (
        <p class="muted">{o.ota.error}</p>
      ) : (
        <Dl
          rows={[
            ['Current', o.ota.current ?? 'not managed by OTA'],
            [
              'Trial',
              o.ota.trial ? <span class="warn">{o.ota.trial.version} on trial</span> : 'none',
            ],
            [
              'Last event',
              last ? `${last.event} ${last.version} at ${formatTime(last.at)}` : 'none',
            ],
          ]}
        />
      )}
    </div>
  );
}

function AttestationCard({ o }: CardProps) {
  const c = o.attestation.lastCheck;
  return (
    <div class="card">
      <h2>Attestation</h2>
      <Dl
        rows={[
          ['TPM', o.attestation.state],
          [
            'Last check',
            c ? (
              <span class={c.ok ? 'ok' : 'bad'}>
                {c.ok ? 'verified' : `failed: ${c.failed.join(', ')}`} at {formatTime(c.at)}
              </span>
            ) : (
              'not run yet'
            ),
          ],
          ['Detail', <span class="muted">{o.attestation.detail}</span>],
        ]}
      />
    </div>
  );
}

/** The Overview's status cards. */
export function OverviewCards(p: CardProps) {
  return (
    <div class="grid">
      <Gateway {...p} />
      <Readiness {...p} />
      <Ingest {...p} />
      <Resources {...p} />
      <LastUpdate {...p} />
      <AttestationCard {...p} />
    </div>
  );
}
