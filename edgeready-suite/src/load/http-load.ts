import type { AgentClient } from '../agent/agent-http.js';

/** Scrape counters of one route. */
export interface RouteStats {
  ok: number;
  fail: number;
  /** The first failures (status or error), at most 10. */
  errors: string[];
}

/**
 * Keeps HTTP load on the agent: health, readiness, metrics and sensor listings in turn, and
 * samples publish→cache latency from the sensor listing (`receivedAt − t` of readings that
 * changed; valid because the publisher and the agent share the host clock).
 */
export class HttpLoad {
  readonly routes: Record<string, RouteStats>;
  #cacheWindow: number[] = [];
  readonly #seen = new Map<string, number>();
  readonly #client: AgentClient;
  readonly #prefix: string;
  readonly #periodMs: number;
  #timer: NodeJS.Timeout | undefined;
  #i = 0;
  #busy = false;

  constructor(
    client: AgentClient,
    sensorPrefix: string,
    periodMs: number,
    routes: Record<string, RouteStats> = {},
  ) {
    this.#client = client;
    this.#prefix = sensorPrefix;
    this.#periodMs = periodMs;
    this.routes = routes;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      void this.#scrape().finally(() => (this.#busy = false));
    }, this.#periodMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  takeCacheLatencies(): number[] {
    const w = this.#cacheWindow;
    this.#cacheWindow = [];
    return w;
  }

  #stat(route: string): RouteStats {
    return (this.routes[route] ??= { ok: 0, fail: 0, errors: [] });
  }

  #failed(route: string, why: string): void {
    const s = this.#stat(route);
    s.fail++;
    if (s.errors.length < 10) s.errors.push(`${new Date().toISOString()} ${why}`);
  }

  async #scrape(): Promise<void> {
    const paths = ['/healthz', '/readyz', '/metrics', `/v1/sensors?prefix=${this.#prefix}`];
    const path = paths[this.#i++ % paths.length] ?? '/healthz';
    const route = path.split('?')[0] ?? path;
    try {
      const r = await this.#client.request(path);
      if (r.status !== 200) return this.#failed(route, `HTTP ${r.status}`);
      this.#stat(route).ok++;
      if (route === '/v1/sensors') {
        const body = JSON.parse(r.text) as {
          readings: { key: string; ts: number; seq: number; receivedAt: number }[];
        };
        for (const rd of body.readings) {
          if (this.#seen.get(rd.key) !== rd.seq) {
            if (this.#seen.has(rd.key)) this.#cacheWindow.push(Math.max(0, rd.receivedAt - rd.ts));
            this.#seen.set(rd.key, rd.seq);
          }
        }
      }
    } catch (e) {
      this.#failed(route, e instanceof Error ? e.message : String(e));
    }
  }
}
