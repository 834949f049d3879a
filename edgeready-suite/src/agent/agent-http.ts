import { EdgeReadyError } from '../errors.js';

/** A reading as the agent serves it (docs/api.md). */
export interface AgentReading {
  readonly key: string;
  readonly value: number | string | boolean;
  readonly unit: string | null;
  readonly ts: number;
  readonly seq: number;
  readonly source: string;
  readonly quality: string;
  readonly receivedAt: number;
}

/** Prometheus text, parsed: `name{labels}` → value (labels kept verbatim, sorted as served). */
export type Metrics = ReadonlyMap<string, number>;

/** Parses the Prometheus text exposition format (samples only; comments ignored). */
export function parseMetrics(text: string): Metrics {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (sp < 0) continue;
    const v = Number(line.slice(sp + 1));
    if (!Number.isNaN(v)) m.set(line.slice(0, sp), v);
  }
  return m;
}

/** Sum of every sample of metric `name` (any labels). */
export function metricSum(m: Metrics, name: string): number | undefined {
  let sum: number | undefined;
  for (const [k, v] of m) {
    if (k === name || k.startsWith(`${name}{`)) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** Injected HTTP. */
export interface HttpDeps {
  readonly fetch: typeof fetch;
}

/** The agent's HTTP API as the suite uses it. */
export class AgentClient {
  readonly baseUrl: string;
  readonly #deps: HttpDeps;
  readonly #timeoutMs: number;

  readonly #token: string | undefined;

  /** `token`: an API token granted quotes (attestation.access.apiTokens), for {@link quote}. */
  constructor(
    baseUrl: string,
    deps: HttpDeps = { fetch: globalThis.fetch },
    timeoutMs = 10_000,
    token?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#deps = deps;
    this.#timeoutMs = timeoutMs;
    this.#token = token;
  }

  /** `Authorization: Bearer` with the run's token, or nothing without one. */
  authHeader(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  /**
   * POST /v1/attestation/quote with the Bearer token. Returns the quote response; throws
   * EDGEFLOW_ER_AGENT_UNREACHABLE with the agent's error code (401/403: token missing or not
   * granted) for any other answer.
   */
  async quote(body: { nonce: string; pcrs: readonly number[]; bank: string }): Promise<unknown> {
    const r = await this.request('/v1/attestation/quote', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.authHeader() },
      body: JSON.stringify(body),
    });
    if (r.status !== 200)
      throw new EdgeReadyError(
        'EDGEFLOW_ER_AGENT_UNREACHABLE',
        `POST /v1/attestation/quote: HTTP ${r.status} ${r.text.slice(0, 300)}${r.status === 401 || r.status === 403 ? ' (the suite needs a token granted in attestation.access.apiTokens: --agent-token-file)' : ''}`,
      );
    return JSON.parse(r.text) as unknown;
  }

  /** Raw request; never throws for an HTTP status, throws for a network failure. */
  async request(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
    // The token goes with every request: an agent listening beyond loopback answers reads
    // only to token holders (http.publicRead).
    const res = await this.#deps.fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: { ...this.authHeader(), ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    return { status: res.status, text: await res.text() };
  }

  async json<T>(path: string): Promise<T> {
    let r;
    try {
      r = await this.request(path);
    } catch (cause) {
      throw new EdgeReadyError(
        'EDGEFLOW_ER_AGENT_UNREACHABLE',
        `GET ${this.baseUrl}${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (r.status !== 200)
      throw new EdgeReadyError(
        'EDGEFLOW_ER_AGENT_UNREACHABLE',
        `GET ${this.baseUrl}${path}: HTTP ${r.status} ${r.text.slice(0, 200)}`,
      );
    return JSON.parse(r.text) as T;
  }

  /**
   * Every reading (whose key starts with `prefix`), following the agent's pages (`next`, 1,000
   * readings each by default). Only `prefix` and `after` are sent: an agent from before paging
   * refuses other query keys, and answers with everything and no `next`.
   */
  async sensors(prefix?: string): Promise<AgentReading[]> {
    const out: AgentReading[] = [];
    let after: string | undefined;
    do {
      const q = new URLSearchParams();
      if (prefix !== undefined) q.set('prefix', prefix);
      if (after !== undefined) q.set('after', after);
      const qs = q.toString();
      const page = await this.json<{ readings: AgentReading[]; next?: string }>(
        `/v1/sensors${qs === '' ? '' : `?${qs}`}`,
      );
      out.push(...page.readings);
      after = page.next;
    } while (after !== undefined);
    return out;
  }

  async sensor(key: string): Promise<AgentReading | undefined> {
    const r = await this.request(`/v1/sensors/${key.split('/').map(encodeURIComponent).join('/')}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200)
      throw new EdgeReadyError(
        'EDGEFLOW_ER_AGENT_UNREACHABLE',
        `GET sensor ${key}: HTTP ${r.status}`,
      );
    return JSON.parse(r.text) as AgentReading;
  }

  async metrics(): Promise<Metrics> {
    const r = await this.request('/metrics');
    if (r.status !== 200)
      throw new EdgeReadyError('EDGEFLOW_ER_AGENT_UNREACHABLE', `GET /metrics: HTTP ${r.status}`);
    return parseMetrics(r.text);
  }

  /** True when /healthz answers 200 within the timeout. */
  async healthy(): Promise<boolean> {
    try {
      return (await this.request('/healthz')).status === 200;
    } catch {
      return false;
    }
  }
}
