import type { TLSSocket } from 'node:tls';
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { TopicAcl, inCommandRoot } from './acl.js';
import { parseScryptHash, verifyPassword, type ParsedHash } from './password.js';
import { SharedLogWindow } from './shared-log-window.js';
import type { MqttAuthConfig, MqttLimitsConfig } from './security-config.js';

/** What a broker violation is counted as (`edgeflow_mqtt_violations_total{kind}`). */
export type ViolationKind =
  | 'auth_failed'
  | 'publish_denied'
  | 'subscribe_denied'
  | 'packet_too_large'
  | 'inflight_exceeded'
  | 'rate_limited'
  | 'max_connections'
  | 'tls_handshake'
  | 'protocol';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'auth_failed',
  'publish_denied',
  'subscribe_denied',
  'packet_too_large',
  'inflight_exceeded',
  'rate_limited',
  'max_connections',
  'tls_handshake',
  'protocol',
];

export interface BrokerSecurityDeps {
  log: Logger;
  now: () => number;
  /** Counts a violation (metrics); logging is done here, once per window and kind. */
  onViolation?: (kind: ViolationKind) => void;
  /**
   * The log window shared with the other threads' brokers ({@link violationLogBuffer}): ingest
   * workers pass one buffer to all, so that a kind is logged once per window per agent, not
   * once per worker. Absent: a window of this broker's own.
   */
  logWindow?: SharedArrayBuffer;
}

/** A buffer for {@link BrokerSecurityDeps.logWindow}: one slot per violation kind. */
export function violationLogBuffer(): SharedArrayBuffer {
  return SharedLogWindow.buffer(VIOLATION_KINDS.length);
}

interface ClientState {
  user: string | null;
  pub: TopicAcl;
  sub: TopicAcl;
  tokens: number;
  refilledAt: number;
}

interface User {
  hash: ParsedHash | undefined;
  publish: string[];
  subscribe: string[];
}

type AuthError = Error & { returnCode: number };
const authError = (returnCode: 4 | 5, message: string): AuthError =>
  Object.assign(new Error(message), { returnCode });

// Verified against for unknown user names, so that the reply time does not say which exist.
const DUMMY = parseScryptHash(
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
) as ParsedHash;

/** The TLS client certificate's subject CN when the TLS layer verified it, else undefined. */
function certUser(client: Client): string | undefined {
  const conn = client.conn as Partial<TLSSocket> | undefined;
  if (conn?.authorized !== true || typeof conn.getPeerCertificate !== 'function') return undefined;
  const cn = conn.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/**
 * The embedded broker's policy, through aedes hooks: authentication (scrypt password hashes,
 * or a verified TLS client certificate whose CN names the user), per-client topic ACLs and a
 * per-client publish rate limit (token bucket). Every violation is counted and logged at most
 * once per window per kind, with the number suppressed since.
 */
export class BrokerSecurity {
  readonly #auth: MqttAuthConfig;
  readonly #limits: MqttLimitsConfig;
  readonly #deps: BrokerSecurityDeps;
  readonly #users = new Map<string, User>();
  readonly #clients = new WeakMap<Client, ClientState>();
  readonly #window: SharedLogWindow;

  constructor(auth: MqttAuthConfig, limits: MqttLimitsConfig, deps: BrokerSecurityDeps) {
    this.#auth = auth;
    this.#limits = limits;
    this.#deps = deps;
    this.#window = new SharedLogWindow(
      deps.logWindow ?? violationLogBuffer(),
      limits.logWindowSec * 1000,
      deps.now,
    );
    for (const u of auth.users) {
      this.#users.set(u.username, {
        hash: u.passwordHash === undefined ? undefined : parseScryptHash(u.passwordHash),
        publish: u.publish,
        subscribe: u.subscribe,
      });
    }
  }

  /**
   * Counts and (once per window and kind, across the threads sharing the window) logs a
   * violation. Never logs a password. `reason` is the kind unless the fields give a detail.
   */
  violation(kind: ViolationKind, fields: Record<string, unknown>): void {
    this.#deps.onViolation?.(kind);
    const suppressedSinceLast = this.#window.claim(VIOLATION_KINDS.indexOf(kind));
    if (suppressedSinceLast === undefined) return;
    this.#deps.log.warn(
      { event: 'mqtt.violation', kind, reason: kind, ...fields, suppressedSinceLast },
      'MQTT client refused',
    );
  }

  #admit(client: Client, user: string | null, acl: { publish: string[]; subscribe: string[] }) {
    const name = user ?? '';
    this.#clients.set(client, {
      user,
      pub: new TopicAcl(acl.publish, name, client.id),
      sub: new TopicAcl(acl.subscribe, name, client.id),
      tokens: this.#limits.rateBurst,
      refilledAt: this.#deps.now(),
    });
  }

  /** The MQTT user a connected client authenticated as; null for anonymous clients. */
  userOf(client: Client): string | null {
    return this.#clients.get(client)?.user ?? null;
  }

  /** aedes `authenticate` hook. */
  readonly authenticate = (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (err: AuthError | null, success: boolean | null) => void,
  ): void => {
    void this.#authenticate(client, username, password).then(
      (err) => done(err, err === null),
      (err: unknown) => done(authError(5, (err as Error).message), false),
    );
  };

  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<AuthError | null> {
    const cn = certUser(client);
    const refuse = (code: 4 | 5, reason: string) => {
      this.violation('auth_failed', { clientId: client.id, username: username ?? null, reason });
      return authError(code, reason);
    };
    if (username === undefined || username === '') {
      const byCert = cn === undefined ? undefined : this.#users.get(cn);
      if (byCert !== undefined && cn !== undefined) {
        this.#admit(client, cn, byCert);
        return null;
      }
      if (!this.#auth.allowAnonymous) return refuse(5, 'anonymous clients are not allowed');
      this.#admit(client, null, this.#auth.anonymous);
      return null;
    }
    const user = this.#users.get(username);
    if (password === undefined) {
      if (user !== undefined && cn === username) {
        this.#admit(client, username, user);
        return null;
      }
      return refuse(4, 'no password and no client certificate for this user');
    }
    const ok = await verifyPassword(Buffer.from(password), user?.hash ?? DUMMY);
    if (!ok || user?.hash === undefined) return refuse(4, 'bad user name or password');
    this.#admit(client, username, user);
    return null;
  }

  /** aedes `authorizePublish` hook: $SYS is reserved (aedes's default), then rate, then ACL. */
  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    done: (err?: Error | null) => void,
  ): void => {
    if (packet.topic.startsWith('$SYS')) return done(new Error('$SYS topic is reserved'));
    if (client === null) return done(null);
    const s = this.#clients.get(client);
    if (s === undefined) return done(new Error('client not authenticated'));
    const rate = this.#limits.ratePerSec;
    if (rate > 0) {
      const now = this.#deps.now();
      s.tokens = Math.min(this.#limits.rateBurst, s.tokens + ((now - s.refilledAt) * rate) / 1000);
      s.refilledAt = now;
      if (s.tokens < 1) {
        this.violation('rate_limited', { clientId: client.id, user: s.user, ratePerSec: rate });
        return done(new Error(`publish rate above ${rate}/s`));
      }
      s.tokens -= 1;
    }
    if (!s.pub.allowsTopic(packet.topic)) {
      this.violation('publish_denied', { clientId: client.id, user: s.user, topic: packet.topic });
      return done(new Error(`not allowed to publish to ${packet.topic}`));
    }
    done(null);
  };

  /**
   * aedes `authorizeForward` hook, run for each message about to go to each subscriber (live,
   * retained and queued deliveries alike). authorizeSubscribe sees only the filter, so a `#`
   * granted by a `#` pattern would deliver command results, OTA status and commands: a topic
   * under {@link inCommandRoot} goes only to a client whose subscribe ACL names it. Everything
   * else passes after one prefix test (the hot path: no lookup, no split).
   */
  readonly authorizeForward = (
    client: Client,
    packet: AedesPublishPacket,
  ): AedesPublishPacket | null => {
    if (!inCommandRoot(packet.topic)) return packet;
    const s = this.#clients.get(client);
    return s !== undefined && s.sub.allowsTopic(packet.topic) ? packet : null;
  };

  /** aedes `authorizeSubscribe` hook: a refused filter gets SUBACK 0x80, the client stays. */
  readonly authorizeSubscribe = (
    client: Client | null,
    sub: Subscription,
    done: (err: Error | null, sub: Subscription | null) => void,
  ): void => {
    if (client === null) return done(null, sub);
    const s = this.#clients.get(client);
    if (s === undefined || !s.sub.allowsFilter(sub.topic)) {
      this.violation('subscribe_denied', {
        clientId: client.id,
        user: s?.user ?? null,
        topic: sub.topic,
      });
      return done(null, null);
    }
    done(null, sub);
  };
}
