import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatcher, type ApiToken } from './auth.js';
import { errorBody } from './error-body.js';

/** Options of the read rule. */
export interface ReadAccessOptions {
  /** `http.listen.host`. */
  readonly listenHost: string;
  /** `http.publicRead`. */
  readonly publicRead: boolean;
  readonly apiTokens: readonly ApiToken[];
  /** Paths every reader may fetch (liveness, the console's static shell: no data in them). */
  readonly exempt?: (path: string) => boolean;
}

/** 127.0.0.0/8, ::1, ::ffff:127.x, or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** Host name of a Host header without its port (`[::1]:8080` → `[::1]`). */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon < 0 ? header : header.slice(0, colon);
}

export type ReadGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Who may read (GET the API, open the event stream, ask for a verification): on a loopback
 * listener everyone on the box, but only through a loopback Host name, so that a web page whose
 * DNS name was rebound to 127.0.0.1 cannot read through the visitor's browser; on any other
 * listener only callers with an API token, unless the operator opened reads with
 * `http.publicRead: true`. Writes have their own guard (auth.ts) and always need the token.
 */
export function createReadGuard(o: ReadAccessOptions): ReadGuard {
  const loopback = isLoopbackHost(o.listenHost);
  const match = tokenMatcher(o.apiTokens);
  return async (req, reply) => {
    if (loopback) {
      const host = req.headers.host;
      if (host === undefined || isLoopbackHost(hostName(host))) return;
      await reply
        .code(421)
        .send(
          errorBody(
            'EDGEFLOW_HTTP_BAD_HOST',
            `Host ${JSON.stringify(host)} is not a loopback name; this agent listens on ${o.listenHost} and answers reads only for 127.0.0.1, [::1] or localhost`,
          ),
        );
      return;
    }
    if (o.publicRead) return;
    if (o.apiTokens.length === 0) {
      await reply
        .code(403)
        .send(
          errorBody(
            'EDGEFLOW_HTTP_READ_CLOSED',
            `reads need a token on ${o.listenHost} (not loopback), and http.apiTokens is empty: add a token, or set http.publicRead: true`,
          ),
        );
      return;
    }
    const m = match(req.headers.authorization);
    if (m.kind === 'ok') return;
    if (m.kind === 'unknown')
      req.log.warn({ event: 'http.auth_failed', ip: req.ip, url: req.url }, 'API token rejected');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send(
        errorBody(
          'EDGEFLOW_HTTP_UNAUTHORIZED',
          m.kind === 'unknown'
            ? 'unknown API token'
            : `reads need a Bearer token: ${o.listenHost} is not loopback and http.publicRead is false`,
        ),
      );
  };
}

/** The read rule as an onRequest hook: GET and HEAD outside the exempt paths. */
export function readAccessHook(o: ReadAccessOptions): ReadGuard {
  const guard = createReadGuard(o);
  return async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return;
    const path = req.url.split('?')[0] ?? '/';
    if (o.exempt?.(path)) return;
    await guard(req, reply);
  };
}
