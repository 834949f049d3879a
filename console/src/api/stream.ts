import { SseParser, type SseEvent } from '../lib/sse.js';
import { ApiError, authHeaders, toError } from './client.js';

export type StreamState = 'connecting' | 'live' | 'retrying' | 'closed';

export interface StreamHandlers {
  onEvent(e: SseEvent): void;
  onState?(state: StreamState, error?: ApiError | Error): void;
}

/**
 * Opens the agent's event stream (`GET /v1/console/events?topics=…`) over `fetch()` with the
 * token header, parses it, and reconnects after a failure with exponential backoff and jitter
 * (1 s … 30 s) so that many consoles do not reconnect in lockstep after an agent restart.
 * A 401 stops retrying until `reconnect()` (the user enters a token). Returns a handle.
 */
export function openStream(topics: readonly string[], h: StreamHandlers) {
  let ctrl: AbortController | undefined;
  let timer: number | undefined;
  let attempt = 0;
  let closed = false;

  const schedule = (err: ApiError | Error) => {
    if (closed) return;
    if (err instanceof ApiError && err.needsToken) {
      h.onState?.('closed', err);
      return;
    }
    h.onState?.('retrying', err);
    const base = Math.min(30_000, 1000 * 2 ** attempt);
    attempt++;
    timer = window.setTimeout(() => void connect(), base / 2 + Math.random() * (base / 2));
  };

  async function connect(): Promise<void> {
    if (closed) return;
    ctrl = new AbortController();
    h.onState?.('connecting');
    try {
      const res = await fetch(`/v1/console/events?topics=${topics.join(',')}`, {
        headers: authHeaders({ accept: 'text/event-stream' }),
        signal: ctrl.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      if (!res.ok || res.body === null) throw await toError(res);
      const parser = new SseParser((e) => {
        if (e.type === 'hello') {
          attempt = 0;
          h.onState?.('live');
        }
        h.onEvent(e);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
      schedule(new Error('the agent ended the stream'));
    } catch (err) {
      if (closed || (err as Error).name === 'AbortError') return;
      schedule(err as Error);
    }
  }

  void connect();
  return {
    close(): void {
      closed = true;
      window.clearTimeout(timer);
      ctrl?.abort();
      h.onState?.('closed');
    },
    /** Reconnects now (e.g. after a token was entered). */
    reconnect(): void {
      window.clearTimeout(timer);
      ctrl?.abort();
      attempt = 0;
      void connect();
    },
  };
}
