import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import { openStream, type StreamState } from '../api/stream.js';
import { onTokenChange } from '../api/token.js';
import type { SseEvent } from '../lib/sse.js';
import { useApp } from '../app-context.js';

/**
 * Subscribes to the agent's event stream for some topics while the page is shown. The handler
 * may change between renders; the stream is opened once per topic set and reopened when a token
 * is entered (a 401 stops it until then).
 */
export function useStream(topics: readonly string[], onEvent: (e: SseEvent) => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const app = useApp();
  const key = topics.join(',');
  useEffect(() => {
    const s = openStream(topics, {
      onEvent: (e) => {
        if (e.type === 'hello') {
          const hello = JSON.parse(e.data) as { now: number };
          app.setClockOffset(hello.now);
        }
        handler.current(e);
      },
      onState: (st, err) => {
        setState(st);
        if (err instanceof ApiError && err.needsToken)
          app.askToken(`Reading needs the token: ${err.message}`);
      },
    });
    const off = onTokenChange(() => s.reconnect());
    return () => {
      off();
      s.close();
    };
  }, [key]);
  return state;
}

/**
 * GET a JSON route now and every `everyMs` (0 = once); `reload()` refetches at once. The
 * refreshes use `refreshPath` when given (e.g. the same data without its bulky part).
 */
export function usePoll<T>(path: string, everyMs: number, refreshPath?: string) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const app = useApp();
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: number | undefined;
    let url = path;
    const run = async () => {
      try {
        const v = await api<T>(url, { signal: ctrl.signal });
        url = refreshPath ?? path;
        setData(v);
        setError(undefined);
        const now = (v as { now?: unknown }).now;
        if (typeof now === 'number') app.setClockOffset(now);
      } catch (err) {
        if ((err as Error).name === 'AbortError') return;
        const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
        setError(e);
        if (e.needsToken) app.askToken(`Reading needs the token: ${e.message}`);
      }
      if (everyMs > 0 && !ctrl.signal.aborted) timer = window.setTimeout(() => void run(), everyMs);
    };
    void run();
    const off = onTokenChange(() => setTick((t) => t + 1));
    return () => {
      off();
      ctrl.abort();
      window.clearTimeout(timer);
    };
  }, [path, refreshPath, everyMs, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** Re-renders every `ms` (countdowns, ages). */
export function useTicker(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => setN((x) => x + 1), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return n;
}

export function LiveBadge({ state }: { state: StreamState }) {
  const label =
    state === 'live'
      ? 'live'
      : state === 'connecting'
        ? 'connecting…'
        : state === 'retrying'
          ? 'reconnecting…'
          : 'offline';
  const cls = state === 'live' ? 'on' : state === 'connecting' ? '' : 'off';
  return (
    <span class={`live ${cls}`} role="status" aria-live="polite">
      {label}
    </span>
  );
}

export function ErrorNote({ error }: { error: ApiError | Error | undefined }) {
  if (!error) return null;
  const code = error instanceof ApiError ? `${error.code}: ` : '';
  return (
    <p class="banner error" role="alert">
      {code}
      {error.message}
    </p>
  );
}
