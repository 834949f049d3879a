import { TpmError } from '../errors.js';
import type { AgentApi } from './enrol.js';
import type { ActivateResponse, IdentityResponse, QuoteResponse } from './protocol.js';

/** Injected HTTP (tests may pass their own fetch). */
export interface ClientDeps {
  readonly fetch: typeof fetch;
}

/**
 * HTTP client for the agent's attestation endpoints under `baseUrl` (e.g. http://gw:8080).
 * `token` (an API token granted in the agent's attestation.access.apiTokens) is sent as
 * `Authorization: Bearer` on quote and activate; identity is public.
 */
export function httpAgentApi(
  baseUrl: string,
  deps: ClientDeps = { fetch: globalThis.fetch },
  token?: string,
): AgentApi {
  const base = baseUrl.replace(/\/+$/, '');
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${base}${path}`;
    let res: Response;
    try {
      const auth: Record<string, string> =
        token === undefined || method === 'GET' ? {} : { authorization: `Bearer ${token}` };
      res = await deps.fetch(url, {
        method,
        ...(body === undefined
          ? { headers: auth }
          : {
              body: JSON.stringify(body),
              headers: { 'content-type': 'application/json', ...auth },
            }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new TpmError(
        'EDGEFLOW_ATTEST_AGENT_REQUEST',
        `${method} ${url}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TpmError(
        'EDGEFLOW_ATTEST_AGENT_REQUEST',
        `${method} ${url}: HTTP ${res.status}, body is not JSON`,
      );
    }
    if (!res.ok) {
      // The agent answers errors as { error: { code, message } }.
      const j = ((json as { error?: unknown }).error ?? json) as {
        code?: unknown;
        message?: unknown;
      };
      throw new TpmError(
        'EDGEFLOW_ATTEST_AGENT_REQUEST',
        `${method} ${url}: HTTP ${res.status} ${typeof j.code === 'string' ? j.code : ''} ${typeof j.message === 'string' ? j.message : ''}`.trim(),
      );
    }
    return json as T;
  }
  return {
    identity: () => call<IdentityResponse>('GET', '/v1/attestation/identity'),
    quote: (req) => call<QuoteResponse>('POST', '/v1/attestation/quote', req),
    activate: (req) => call<ActivateResponse>('POST', '/v1/attestation/activate', req),
  };
}
