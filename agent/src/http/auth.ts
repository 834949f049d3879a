import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-body.js';

/** A configured API token: its SHA-256 only, so the config file holds no secret. */
export interface ApiToken {
  name: string;
  sha256: string;
}

/** A grant: only the named tokens may call the route (an empty list refuses every token). */
export interface TokenGrant {
  /** Token names (http.apiTokens[].name) holding the grant. */
  readonly names: readonly string[];
  /** Config key of the grant, for the refusal message (`attestation.access.apiTokens`). */
  readonly key: string;
}

/**
 * The grant of one action, `<section>.access.apiTokens`. Every state-changing route names one:
 * GPIO writes (gpio), OTA commit/rollback (ota), quotes and activation (attestation), the cache
 * self-test (selftest). An action that also has an MQTT command checks the same section's
 * `mqttUsers` there (MqttCommands, OtaRequests): one access list per action and transport.
 */
export function accessGrant(
  section: 'gpio' | 'ota' | 'attestation' | 'selftest',
  names: readonly string[],
): TokenGrant {
  return { names, key: `${section}.access.apiTokens` };
}

/** The GPIO write grant (gpio.access.apiTokens); see {@link accessGrant}. */
export function gpioGrant(names: readonly string[]): TokenGrant {
  return accessGrant('gpio', names);
}

/** Outcome of looking a request's Authorization header up in the configured tokens. */
export type TokenMatch =
  | { readonly kind: 'missing' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'ok'; readonly name: string };

/**
 * Matches `Authorization: Bearer <token>` against the configured SHA-256 digests, in constant
 * time per digest. Shared by the state-changing guard and the read rule (read-access.ts).
 */
export function tokenMatcher(
  tokens: readonly ApiToken[],
): (header: string | undefined) => TokenMatch {
  const digests = tokens.map((t) => ({ name: t.name, digest: Buffer.from(t.sha256, 'hex') }));
  return (header) => {
    const presented = /^Bearer ([\x21-\x7e]{16,512})$/.exec(header ?? '')?.[1];
    if (presented === undefined) return { kind: 'missing' };
    const d = createHash('sha256').update(presented).digest();
    const who = digests.find((t) => timingSafeEqual(t.digest, d));
    return who === undefined ? { kind: 'unknown' } : { kind: 'ok', name: who.name };
  };
}

/**
 * Bearer-token check for every route that changes state. Tokens are random (32 bytes from
 * `openssl rand -hex 32`), so a plain SHA-256 is enough (no password-stretching needed); the
 * comparison is constant-time. With no token configured, state-changing routes are refused:
 * secure by default. A valid token must also be one the route's `grant` names (403
 * EDGEFLOW_HTTP_FORBIDDEN otherwise): there is no "any token" route, so that an action needs
 * the same explicit grant wherever it is offered.
 */
export function createAuthGuard(tokens: readonly ApiToken[], grant: TokenGrant) {
  const match = tokenMatcher(tokens);
  return async function requireToken(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (tokens.length === 0) {
      await reply
        .code(403)
        .send(
          errorBody(
            'EDGEFLOW_HTTP_AUTH_DISABLED',
            'no API token is configured (http.apiTokens): state-changing routes are off',
          ),
        );
      return;
    }
    const who = match(req.headers.authorization);
    if (who.kind === 'missing') {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody('EDGEFLOW_HTTP_UNAUTHORIZED', 'missing or malformed Bearer token'));
      return;
    }
    if (who.kind === 'unknown') {
      req.log.warn({ event: 'http.auth_failed', ip: req.ip, url: req.url }, 'API token rejected');
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody('EDGEFLOW_HTTP_UNAUTHORIZED', 'unknown API token'));
      return;
    }
    if (!grant.names.includes(who.name)) {
      req.log.warn(
        { event: 'http.auth_forbidden', token: who.name, url: req.url, grant: grant.key },
        'API token not granted this route',
      );
      await reply
        .code(403)
        .send(
          errorBody(
            'EDGEFLOW_HTTP_FORBIDDEN',
            `token "${who.name}" is not granted ${req.method} ${req.url.split('?')[0]} (add it to ${grant.key})`,
          ),
        );
      return;
    }
    req.log.info({ event: 'http.auth_ok', token: who.name, url: req.url }, 'authenticated call');
  };
}
