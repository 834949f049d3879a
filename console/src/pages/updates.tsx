import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { OtaView } from '../api/types.js';
import { ErrorNote, usePoll, useTicker } from '../components/hooks.js';
import { trialClock } from '../lib/countdown.js';
import { formatDuration, formatTime } from '../lib/format.js';
import { useApp } from '../app-context.js';

const PHASE_TEXT = {
  'waiting-ready': 'waiting for the agent to report READY and health',
  probation: 'in probation: commits when the window passes healthy',
  committing: 'healthy through probation: commit reported, root finalises it',
  failed: 'trial failed: the next start rolls back',
  overdue: 'deadline passed: the root-side check rolls it back',
} as const;

/** Releases managed by OTA: current, previous, a trial with its countdowns, history. */
export function Updates() {
  const app = useApp();
  const { data, error, reload } = usePoll<OtaView>('/v1/console/ota', 5000);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState('');
  useTicker(1000);
  const now = Date.now() + app.clockOffset();
  const clock = data ? trialClock(data, now) : null;

  const act = async (what: 'commit' | 'rollback') => {
    setActionError(undefined);
    if (!app.hasToken) {
      app.askToken(`${what === 'commit' ? 'Committing' : 'Rolling back'} needs the API token.`);
      return;
    }
    if (
      what === 'rollback' &&
      !window.confirm(
        'Roll back the release on trial? The agent restarts into the previous release.',
      )
    )
      return;
    setBusy(true);
    try {
      const r = await api<{ result: string }>(`/v1/console/ota/${what}`, {
        method: 'POST',
        body: {},
      });
      setDone(r.result);
      reload();
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
      setActionError(e);
      if (e.needsToken) app.askToken(`The agent refused the token: ${e.message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="h-updates">
      <h1 id="h-updates">Updates</h1>
      <ErrorNote error={error} />
      <ErrorNote error={actionError} />
      <p role="status" aria-live="polite" class="ok">
        {done}
      </p>
      {data ? (
        <>
          {!data.managed ? (
            <p class="banner">
              No OTA state under <code>{data.root}</code>: this installation is not managed by OTA
              {data.error ? ` (${data.error.code}: ${data.error.message})` : ''}.
            </p>
          ) : null}
          <div class="grid">
            <div class="card">
              <h2>Current</h2>
              <p class="big mono">{data.current ?? '–'}</p>
              <p class="muted">previous: {data.previous ?? 'none'}</p>
            </div>
            <div class="card" id="trial">
              <h2>Trial</h2>
              {data.trial && clock ? (
                <>
                  <p class="big mono warn">{data.trial.version}</p>
                  <p>{PHASE_TEXT[clock.phase]}</p>
                  <dl>
                    <dt>Rolls back in</dt>
                    <dd id="rollback-countdown" class="mono">
                      {clock.rollbackInSec === null
                        ? '–'
                        : formatDuration(Math.max(0, clock.rollbackInSec))}
                    </dd>
                    <dt>Commits in</dt>
                    <dd id="commit-countdown" class="mono">
                      {clock.commitInSec === null
                        ? 'after READY and health'
                        : formatDuration(clock.commitInSec)}
                    </dd>
                    <dt>Probation</dt>
                    <dd>{formatDuration(data.trial.probationSec)} healthy</dd>
                    <dt>Installed</dt>
                    <dd>
                      {formatTime(data.trial.installedAt)} (from {data.trial.from ?? 'none'})
                    </dd>
                  </dl>
                  <div class="actions">
                    <button
                      type="button"
                      class="primary"
                      disabled={busy || !data.canCommit}
                      onClick={() => void act('commit')}
                    >
                      Commit now
                    </button>
                    <button
                      type="button"
                      class="danger"
                      disabled={busy || !data.canRollback}
                      onClick={() => void act('rollback')}
                    >
                      Roll back
                    </button>
                  </div>
                  {!app.hasToken ? (
                    <p class="muted">Commit and roll back need the API token.</p>
                  ) : null}
                </>
              ) : (
                <p class="muted">No release on trial.</p>
              )}
            </div>
          </div>
          <div class="card scroll-x">
            <h2>History</h2>
            {data.history.length === 0 ? (
              <p class="muted">No OTA event recorded.</p>
            ) : (
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
                  {[...data.history].reverse().map((h, i) => (
                    <tr key={`${h.at}-${i}`}>
                      <td>{formatTime(h.at)}</td>
                      <td>{h.event}</td>
                      <td class="mono">{h.version}</td>
                      <td>{h.reason ?? (h.from ? `from ${h.from}` : '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </>
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
