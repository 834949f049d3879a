import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { GpioEdge, GpioLine, GpioState } from '../api/types.js';
import { ErrorNote, LiveBadge, usePoll, useStream } from '../components/hooks.js';
import { useTokenAction } from '../components/token-action.js';
import { formatTime } from '../lib/format.js';
import { useApp } from '../app-context.js';

const level = (v: 0 | 1 | undefined) => (v === 1 ? 'High' : v === 0 ? 'Low' : 'Unknown');

interface LinesProps {
  readonly lines: readonly GpioLine[];
  readonly busy: string | undefined;
  readonly set: (l: GpioLine, value: 0 | 1) => void;
}

function Lines({ lines, busy, set }: LinesProps) {
  return (
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
        {lines.map((l) => (
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
                  disabled={busy === `Switching ${l.name}`}
                  onClick={() => set(l, l.value === 1 ? 0 : 1)}
                >
                  {level(l.value)}
                </button>
              ) : (
                <span class="state" data-value={l.value}>
                  {level(l.value)}
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Edges({ edges }: { edges: readonly GpioEdge[] }) {
  return (
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
  );
}

/**
 * Declared GPIO lines with their live state and recent edges. Outputs are switched with
 * `PUT /v1/gpio/:name` — the same route and the same token grant as the API.
 */
export function Gpio() {
  const app = useApp();
  const initial = usePoll<GpioState>('/v1/gpio', 0);
  const [lines, setLines] = useState<readonly GpioLine[] | undefined>(undefined);
  const [edges, setEdges] = useState<readonly GpioEdge[]>([]);
  const [message, setMessage] = useState('');
  const action = useTokenAction();
  const live = useStream(['gpio'], (e) => {
    if (e.type !== 'gpio') return;
    const g = JSON.parse(e.data) as GpioState;
    setLines(g.lines);
    const fresh = g.edges ?? [];
    if (fresh.length > 0) setEdges((old) => [...fresh, ...old].slice(0, 50));
  });
  const shown = lines ?? initial.data?.lines;
  const set = (l: GpioLine, value: 0 | 1) =>
    void action
      .run(`Switching ${l.name}`, () =>
        api(`/v1/gpio/${encodeURIComponent(l.name)}`, { method: 'PUT', body: { value } }),
      )
      .then((r) =>
        setMessage(
          r === undefined
            ? `${l.name} not switched`
            : `${l.name} set ${level(value).toLowerCase()}`,
        ),
      );

  return (
    <section aria-labelledby="h-gpio">
      <div class="toolbar">
        <h1 id="h-gpio">GPIO</h1>
        <LiveBadge state={live} />
        {initial.data?.board ? <span class="muted">board {initial.data.board}</span> : null}
      </div>
      {initial.error?.status === 404 ? (
        <p class="banner">The HAL is not running on this agent: no GPIO lines.</p>
      ) : (
        <ErrorNote error={initial.error} />
      )}
      <ErrorNote error={action.error} />
      <p class="visually-hidden" role="status" aria-live="polite">
        {message}
      </p>
      {shown && shown.length === 0 ? (
        <p class="muted">No GPIO lines are declared in hal.gpio.</p>
      ) : null}
      {shown && shown.length > 0 ? (
        <div class="card scroll-x">
          <Lines lines={shown} busy={action.busy} set={set} />
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
      <Edges edges={edges} />
    </section>
  );
}
