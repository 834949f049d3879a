import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { GpioEdge, GpioLine, GpioState } from '../api/types.js';
import { ErrorNote, LiveBadge, usePoll, useStream } from '../components/hooks.js';
import { formatTime } from '../lib/format.js';
import { useApp } from '../app-context.js';

/**
 * Declared GPIO lines with their live state and recent edges. Outputs are switched with
 * `PUT /v1/gpio/:name` — the same route and the same token grant as the API.
 */
export function Gpio() {
  const app = useApp();
  const initial = usePoll<GpioState>('/v1/gpio', 0);
  const [lines, setLines] = useState<readonly GpioLine[] | undefined>(undefined);
  const [edges, setEdges] = useState<readonly GpioEdge[]>([]);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const [message, setMessage] = useState('');
  const live = useStream(['gpio'], (e) => {
    if (e.type !== 'gpio') return;
    const g = JSON.parse(e.data) as GpioState;
    setLines(g.lines);
    if (g.edges && g.edges.length > 0) setEdges((old) => [...g.edges!, ...old].slice(0, 50));
  });
  const shown = lines ?? initial.data?.lines;

  const set = async (l: GpioLine, value: 0 | 1) => {
    setActionError(undefined);
    if (!app.hasToken) {
      app.askToken(`Switching ${l.name} needs the API token.`);
      return;
    }
    setBusy(l.name);
    try {
      await api(`/v1/gpio/${encodeURIComponent(l.name)}`, { method: 'PUT', body: { value } });
      setMessage(`${l.name} set ${value === 1 ? 'high' : 'low'}`);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
      setActionError(e);
      setMessage(`${l.name} not switched: ${e.message}`);
      if (e.needsToken) app.askToken(`The agent refused the token: ${e.message}`);
    } finally {
      setBusy(undefined);
    }
  };

  const notFound = initial.error?.status === 404;
  return (
    <section aria-labelledby="h-gpio">
      <div class="toolbar">
        <h1 id="h-gpio">GPIO</h1>
        <LiveBadge state={live} />
        {initial.data?.board ? <span class="muted">board {initial.data.board}</span> : null}
      </div>
      {notFound ? (
        <p class="banner">The HAL is not running on this agent: no GPIO lines.</p>
      ) : (
        <ErrorNote error={initial.error} />
      )}
      <ErrorNote error={actionError} />
      <p class="visually-hidden" role="status" aria-live="polite">
        {message}
      </p>
      {shown && shown.length === 0 ? (
        <p class="muted">No GPIO lines are declared in hal.gpio.</p>
      ) : null}
      {shown && shown.length > 0 ? (
        <div class="card scroll-x">
          <table class="plain" id="gpio-lines">
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Direction</th>
                <th scope="col">Pin</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((l) => (
                <tr key={l.name} data-line={l.name}>
                  <td class="mono">{l.name}</td>
                  <td>{l.direction}</td>
                  <td class="mono">{l.source}</td>
                  <td>
                    {l.direction === 'output' ? (
                      <button
                        type="button"
                        class="switch"
                        role="switch"
                        aria-checked={l.value === 1}
                        aria-label={`${l.name} output`}
                        disabled={busy === l.name}
                        onClick={() => void set(l, l.value === 1 ? 0 : 1)}
                      >
                        {l.value === 1 ? 'High' : l.value === 0 ? 'Low' : 'Unknown'}
                      </button>
                    ) : (
                      <span class="state" data-value={l.value}>
                        {l.value === 1 ? 'High' : l.value === 0 ? 'Low' : 'Unknown'}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!app.hasToken ? (
            <p class="muted">
              Outputs switch only with the API token.{' '}
              <button type="button" onClick={() => app.askToken()}>
                Enter token
              </button>
            </p>
          ) : null}
        </div>
      ) : null}
      <div class="card" aria-labelledby="h-edges">
        <h2 id="h-edges">Recent edges</h2>
        {edges.length === 0 ? (
          <p class="muted">No edge seen since this page opened.</p>
        ) : (
          <ol class="steps" id="gpio-edges">
            {edges.map((e, i) => (
              <li key={`${e.ts}-${i}`}>
                <span class="mono">{formatTime(e.ts)}</span> {e.name} {e.edge} → {e.value}
              </li>
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}
