import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { OtaView } from '../api/types.js';
import { ErrorNote, usePoll, useTicker } from '../components/hooks.js';
import { useTokenAction } from '../components/token-action.js';
import { trialClock, type TrialClock } from '../lib/countdown.js';
import { formatDuration, formatTime } from '../lib/format.js';
import { useApp } from '../app-context.js';

const PHASE_TEXT = {
  'waiting-ready': 'waiting for the agent to report READY and health',
  probation: 'in probation: commits when the window passes healthy',
  committing: 'healthy through probation: commit reported, root finalises it',
  failed: 'trial failed: the next start rolls back',
  overdue: 'deadline passed: the root-side check rolls it back',
} as const;

interface TrialProps {
  readonly v: OtaView;
  readonly clock: TrialClock;
  readonly busy: boolean;
  readonly act: (what: 'commit' | 'rollback') => void;
}

function TrialCard({ v, clock, busy, act }: TrialProps) {
  const t = v.trial;
  if (t === null) return <p class="muted">No release on trial.</p>;
  return (
    <>
      <p class="big mono warn">{t.version}</p>
      <p>{PHASE_TEXT[clock.phase]}</p>
      <dl>
        <dt>Rolls back in</dt>
        <dd id="rollback-countdown" class="mono">
          {clock.rollbackInSec === null ? '–' : formatDuration(Math.max(0, clock.rollbackInSec))}
        </dd>
        <dt>Commits in</dt>
        <dd id="commit-countdown" class="mono">
          {clock.commitInSec === null
            ? 'after READY and health'
            : formatDuration(clock.commitInSec)}
        </dd>
        <dt>Probation</dt>
        <dd>{formatDuration(t.probationSec)} healthy</dd>
        <dt>Installed</dt>
        <dd>
          {formatTime(t.installedAt)} (from {t.from ?? 'none'})
        </dd>
      </dl>
      <div class="actions">
        <button
          type="button"
          class="primary"
          disabled={busy || !v.canCommit}
          onClick={() => act('commit')}
        >
          Commit now
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy || !v.canRollback}
          onClick={() => act('rollback')}
        >
          Roll back
        </button>
      </div>
    </>
  );
}

function History({ v }: { v: OtaView }) {
  if (v.history.length === 0) return <p class="muted">No OTA event recorded.</p>;
  return (
    <table class="plain">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">Version</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {[...v.history].reverse().map((h, i) => (
          <tr key={`${h.at}-${i}`}>
            <td>{formatTime(h.at)}</td>
            <td>{h.event}</td>
            <td class="mono">{h.version}</td>
            <td>{h.reason ?? (h.from ? `from ${h.from}` : '')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Releases managed by OTA: current, previous, a trial with its countdowns, history. */
export function Updates() {
  const app = useApp();
  const { data, error, reload } = usePoll<OtaView>('/v1/console/ota', 5000);
  const action = useTokenAction();
  const [done, setDone] = useState('');
  useTicker(1000);
  const clock = data ? trialClock(data, Date.now() + app.clockOffset()) : null;
  const act = (what: 'commit' | 'rollback') => {
    const sure =
      what === 'commit' ||
      window.confirm(
        'Roll back the release on trial? The agent restarts into the previous release.',
      );
    if (!sure) return;
    void action
      .run(what === 'commit' ? 'Committing' : 'Rolling back', () =>
        api<{ result: string }>(`/v1/console/ota/${what}`, { method: 'POST', body: {} }),
      )
      .then((r) => {
        if (r === undefined) return;
        setDone(r.result);
        reload();
      });
  };
  return (
    <section aria-labelledby="h-updates">
      <h1 id="h-updates">Updates</h1>
      <ErrorNote error={error} />
      <ErrorNote error={action.error} />
      <p role="status" aria-live="polite" class="ok">
        {done}
      </p>
      {data && !data.managed ? (
        <p class="banner">
          No OTA state under <code>{data.root}</code>: this installation is not managed by OTA
          {data.error ? ` (${data.error.code}: ${data.error.message})` : ''}.
        </p>
      ) : null}
      {data ? (
        <>
          <div class="grid">
            <div class="card">
              <h2>Current</h2>
              <p class="big mono">{data.current ?? '–'}</p>
              <p class="muted">previous: {data.previous ?? 'none'}</p>
            </div>
            <div class="card" id="trial">
              <h2>Trial</h2>
              {clock ? (
                <TrialCard v={data} clock={clock} busy={action.busy !== undefined} act={act} />
              ) : (
                <p class="muted">No release on trial.</p>
              )}
              {data.trial && !app.hasToken ? (
                <p class="muted">Commit and roll back need the API token.</p>
              ) : null}
            </div>
          </div>
          <div class="card scroll-x">
            <h2>History</h2>
            <History v={data} />
          </div>
        </>
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
