import { getToken } from './token.js';

/** An error answer of the agent (`{error: {code, message}}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The request needs the token (or a different one). */
  get needsToken(): boolean {
    return this.status === 401;
  }
}

/** Headers of every call: the token when there is one. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return token === undefined ? extra : { ...extra, authorization: `Bearer ${token}` };
}

async function toError(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not a JSON error body
  }
  return new ApiError(res.status, code, message);
}

/** Calls the agent's API on the same origin; JSON in, JSON out; throws ApiError. */
export async function api<T>(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const headers = authHeaders(init.headers);
  let body: BodyInit | undefined;
  if (init.body instanceof Blob || init.body instanceof ArrayBuffer) body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
      ...(init.signal ? { signal: init.signal } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `cannot reach the agent: ${(err as Error).message}`);
  }
  if (!res.ok) throw await toError(res);
  return (await res.json()) as T;
}

export { toError };
