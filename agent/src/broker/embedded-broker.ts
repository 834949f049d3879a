import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createTlsServer } from 'node:tls';
import {
  Aedes,
  type AedesPublishPacket,
  type Client,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import { assertAedesPatched } from './aedes-patches.js';
import { coalesceWrites, guardPacketSize } from './connection-guards.js';
import {
  InflightLimitError,
  MemoryPersistence,
  type InflightLimits,
} from './memory-persistence.js';
import { connectViolation, filterViolation, publishViolation } from './protocol-checks.js';
import { consumeQos2BeforeForwarding, queueQos1BeforeAck } from './qos2-forwarding.js';
import { allocateIdsSkippingInFlight, type IdInUse } from './packet-ids.js';
import { SessionExpiry, type ExpirableSessions } from './session-expiry.js';
import { BrokerSecurity, type ViolationKind } from './security.js';
import {
  mqttAuthSchema,
  mqttLimitsSchema,
  type MqttAuthConfig,
  type MqttLimitsConfig,
  type MqttTlsConfig,
} from './security-config.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  maxConnections: number;
  /** Authentication and ACLs (default: anonymous clients, every topic). */
  auth?: MqttAuthConfig;
  /** Packet size, in-flight, rate limits (default: the schema defaults). */
  limits?: MqttLimitsConfig;
  /** A second listener with TLS (and client certificates); absent = none. */
  tls?: MqttTlsConfig | undefined;
  /** Persistent sessions of clients away longer than this are dropped (0: never). */
  sessionExpirySec?: number;
  /**
   * Listen with SO_REUSEPORT (Node >= 22.12): several ingest workers bind the same port and the
   * kernel spreads connections between them.
   */
  reusePort?: boolean;
}

export interface EmbeddedBrokerDeps {
  log: Logger;
  /**
   * Called for every PUBLISH from a client, in-process, without a second network hop: for
   * QoS 2 inside aedes's `published` hook, after the packet id is stored and before PUBREC;
   * for QoS 1 after the ACL check and before PUBACK; for QoS 0 in `published`. Must not
   * throw. When it returns a promise, the acknowledgement waits for it; a rejection closes the
   * connection without acknowledging (the client retransmits).
   */
  onPublish: (
    topic: string,
    payload: Uint8Array,
    clientId: string,
    info: {
      qos: 0 | 1 | 2;
      messageId: number | undefined;
      /** The authenticated MQTT user; null for an anonymous client. */
      user: string | null;
    },
  ) => void | Promise<void>;
  /** An aedes persistence (default: {@link MemoryPersistence}). */
  persistence?: unknown;
  /** aedes's message bus (default: its own mqemitter; ingest workers pass a ClusterEmitter). */
  mq?: unknown;
  /**
   * Runs before a CONNECT is handled (aedes `preConnect`), with the client id: a rejection
   * refuses the connection (CONNACK 3, server unavailable). Ingest workers claim the id here.
   */
  beforeConnect?: (clientId: string) => Promise<void>;
  /** A persistent session expired (metrics); logging is done by the broker. */
  onSessionExpired?: () => void;
  /** Counts a refused client action (metrics); logging is done by the broker. */
  onViolation?: (kind: ViolationKind) => void;
  /** The violation log window shared between ingest workers (BrokerSecurityDeps.logWindow). */
  violationLog?: SharedArrayBuffer;
  now?: () => number;
}

/** The embedded aedes broker that devices publish to. */
export class EmbeddedBroker {
  readonly #aedes: Aedes;
  readonly #server: Server;
  readonly #servers: Server[];
  readonly #log: Logger;
  #expiryTimer: NodeJS.Timeout | undefined;

  private constructor(aedes: Aedes, servers: Server[], log: Logger) {
    this.#aedes = aedes;
    this.#server = servers[0] as Server;
    this.#servers = servers;
    this.#log = log;
  }

  static async start(
    opts: EmbeddedBrokerOptions,
    deps: EmbeddedBrokerDeps,
  ): Promise<EmbeddedBroker> {
    const { log } = deps;
    assertAedesPatched();
    const limits = opts.limits ?? mqttLimitsSchema.parse({});
    const security = new BrokerSecurity(opts.auth ?? mqttAuthSchema.parse({}), limits, {
      log,
      now: deps.now ?? Date.now,
      ...(deps.onViolation ? { onViolation: deps.onViolation } : {}),
      ...(deps.violationLog ? { logWindow: deps.violationLog } : {}),
    });
    const tlsOptions = opts.tls === undefined ? undefined : await readTlsFiles(opts.tls);
    const persistence = deps.persistence ?? new MemoryPersistence();
    limitInflight(persistence, limits);
    const aedes = await createAedes(persistence, limits, security, deps);
    reportClientErrors(aedes, security, limits, log);
    const onConnection = connectionSetup(aedes, persistence, limits, security, log);
    const servers = await startListeners(opts, tlsOptions, onConnection, security).catch(
      async (err: unknown) => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        throw err;
      },
    );
    if (opts.host !== '127.0.0.1' && opts.host !== '::1' && opts.host !== 'localhost') {
      if ((opts.auth?.allowAnonymous ?? true) === true)
        log.warn(
          { event: 'mqtt.anonymous_exposed', host: opts.host },
          'MQTT listener is not on loopback and accepts anonymous clients (mqtt.auth.allowAnonymous)',
        );
    }
    const broker = new EmbeddedBroker(aedes, servers, log);
    broker.#startSessionExpiry(persistence, opts.sessionExpirySec ?? 0, deps);
    return broker;
  }

  #startSessionExpiry(persistence: unknown, expirySec: number, deps: EmbeddedBrokerDeps): void {
    const p = persistence as Partial<ExpirableSessions>;
    if (expirySec <= 0 || typeof p.sessionClients !== 'function') return;
    if (typeof p.expireSession !== 'function') return;
    const log = this.#log;
    const expiry = new SessionExpiry(p as ExpirableSessions, expirySec, {
      now: deps.now ?? Date.now,
      onExpired: (clientId, awayMs) => {
        deps.onSessionExpired?.();
        log.info(
          { event: 'mqtt.session_expired', clientId, awaySec: Math.round(awayMs / 1000) },
          'persistent session expired: subscriptions and queued messages dropped',
        );
      },
      onError: (clientId, err) =>
        log.warn(
          { event: 'mqtt.session_expiry_failed', clientId, err: err.message },
          'persistent session could not be expired; retried at the next sweep',
        ),
    });
    this.#aedes.on('client', (c) => expiry.connected(c.id));
    this.#aedes.on('clientDisconnect', (c) => expiry.disconnected(c.id));
    // Sessions restored from disk start their clock now.
    void expiry.sweep();
    const every = Math.min(60_000, Math.max(1000, (expirySec * 1000) / 4));
    this.#expiryTimer = setInterval(() => void expiry.sweep(), every);
    this.#expiryTimer.unref();
  }

  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** The TLS listener's address, when configured. */
  get tlsAddress(): AddressInfo | undefined {
    return this.#servers[1]?.address() as AddressInfo | undefined;
  }

  get listening(): boolean {
    return this.#server.listening;
  }

  get connectedClients(): number {
    return this.#aedes.connectedClients;
  }

  /**
   * Publishes from inside the agent (QoS 0; retained when asked, kept durably with the
   * write-ahead log); errors are logged, not thrown.
   */
  publish(topic: string, payload: Buffer, retain = false): void {
    this.#aedes.publish(
      { cmd: 'publish', topic, payload, qos: 0, retain, dup: false },
      (err?: Error) => {
        if (err)
          this.#log.warn(
            { event: 'mqtt.publish_failed', topic, err: err.message },
            'publish failed',
          );
      },
    );
  }

  /** Closes the connection of client `clientId` if it is connected here. */
  disconnect(clientId: string): Promise<void> {
    const clients = (this.#aedes as unknown as { clients: Record<string, Client | undefined> })
      .clients;
    const client = clients[clientId];
    if (client === undefined) return Promise.resolve();
    return new Promise((resolve) => client.close(() => resolve()));
  }

  /** Calls `fn` with the number of connected clients whenever it changes. */
  onClientCount(fn: (n: number) => void): void {
    const report = () => fn(this.#aedes.connectedClients);
    this.#aedes.on('client', report);
    this.#aedes.on('clientDisconnect', report);
  }

  /** Calls `fn` with the id of each client whose connection closed. */
  onDisconnect(fn: (clientId: string) => void): void {
    this.#aedes.on('clientDisconnect', (c) => fn(c.id));
  }

  /** Stops accepting connections, then closes clients (in-flight handlers finish first). */
  async close(): Promise<void> {
    clearInterval(this.#expiryTimer);
    const closed = this.#servers.map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    await Promise.all(closed);
  }
}

type OnPublish = EmbeddedBrokerDeps['onPublish'];

/**
 * aedes with the agent's hooks: security (authenticate, ACLs, rate limit) and the consumer,
 * which runs before the acknowledgement at every QoS (see {@link EmbeddedBrokerDeps.onPublish}).
 */
async function createAedes(
  persistence: unknown,
  limits: MqttLimitsConfig,
  security: BrokerSecurity,
  deps: Pick<EmbeddedBrokerDeps, 'onPublish' | 'mq' | 'beforeConnect' | 'log'>,
): Promise<Aedes> {
  const onPublish: OnPublish = deps.onPublish;
  const beforeConnect = deps.beforeConnect;
  const consume = (packet: PublishPacket, client: Client) =>
    onPublish(packet.topic, packet.payload as Uint8Array, client.id, {
      qos: packet.qos,
      messageId: packet.messageId,
      user: security.userOf(client),
    });
  const early: { queueQos1?: ReturnType<typeof queueQos1BeforeAck> } = {};
  /** Packets already consumed before forwarding (QoS 1 in authorizePublish, QoS 2 numbered). */
  const consumedEarly = new WeakSet<object>();
  const settle = (pending: void | Promise<void>, done: (err?: Error | null) => void) => {
    if (pending === undefined) return done(null);
    pending.then(
      () => done(null),
      (err: unknown) => done(err as Error),
    );
  };
  const aedes = await Aedes.createBroker({
    persistence,
    ...(deps.mq !== undefined ? { mq: deps.mq as never } : {}),
    maxInflightInbound: limits.maxInflight,
    authenticate: security.authenticate,
    preConnect: connectGate(security, beforeConnect, deps.log),
    // QoS 1: aedes writes PUBACK before `published` runs, so a crash between the two would
    // lose an acknowledged message. The consumer runs here instead, after the ACL check and
    // before PUBACK (a retransmission after a crash is applied again: at least once).
    authorizePublish(client: Client | null, packet: PublishPacket, done) {
      // The will (published by aedes as the client goes) is checked at CONNECT instead.
      const isWill = client !== null && packet === (client as { will?: unknown }).will;
      const bad = client === null || isWill ? undefined : publishViolation(packet);
      if (bad !== undefined) {
        security.violation('protocol', { clientId: client?.id, reason: bad });
        return done(new Error(bad));
      }
      // [MQTT-3.3.1-3]: the DUP flag of an incoming PUBLISH is not passed on to subscribers
      // (aedes copies it); the duplicate check of QoS 2 uses the packet id, not the flag.
      packet.dup = false;
      security.authorizePublish(client, packet, (err) => {
        if (err || client === null || packet.qos !== 1) return done(err);
        consumedEarly.add(packet);
        settle(consume(packet, client), (e) => {
          if (e) {
            consumedEarly.delete(packet);
            return done(e);
          }
          settle(early.queueQos1?.(packet, client), done);
        });
      });
    },
    authorizeForward: security.authorizeForward,
    authorizeSubscribe(client: Client | null, sub: Subscription, done) {
      const bad = filterViolation(sub.topic);
      if (bad === undefined) return security.authorizeSubscribe(client, sub, done);
      security.violation('protocol', { clientId: client?.id, reason: bad });
      done(null, null);
    },
    published(packet: AedesPublishPacket, client: Client | null, done) {
      // Broker-internal publishes ($SYS, dead letters, our own API) have no client.
      if (client === null || consumedEarly.has(packet)) return done(null);
      settle(consume(packet, client), done);
    },
  });
  consumeQos2BeforeForwarding(aedes, persistence, consume, consumedEarly);
  early.queueQos1 = queueQos1BeforeAck(aedes, persistence);
  return aedes;
}

type PreConnect = (
  client: Client,
  packet: object,
  done: (err: Error | null, ok: boolean) => void,
) => void;

/**
 * aedes `preConnect`: a CONNECT that breaks the protocol is closed without CONNACK
 * [MQTT-3.1.4-1]; then `beforeConnect` (an ingest worker's claim of the client id) may refuse.
 */
function connectGate(
  security: BrokerSecurity,
  beforeConnect: ((clientId: string) => Promise<void>) | undefined,
  log: Logger,
): PreConnect {
  return (client, packet, done) => {
    const bad = connectViolation(packet);
    if (bad !== undefined) {
      security.violation('protocol', {
        remote: (client.conn as { remoteAddress?: string }).remoteAddress,
        reason: bad,
      });
      return done(new Error(bad), false);
    }
    if (beforeConnect === undefined) return done(null, true);
    const clientId = (packet as { clientId?: string }).clientId ?? '';
    beforeConnect(clientId).then(
      () => done(null, true),
      (err: unknown) => {
        log.warn(
          { event: 'mqtt.connect_refused', clientId, err: (err as Error).message },
          'connection refused before CONNECT',
        );
        done(err as Error, false);
      },
    );
  };
}

/** Tells the persistence its bounds of inbound QoS 2 ids, when it keeps any (ours do). */
function limitInflight(persistence: unknown, limits: MqttLimitsConfig): void {
  const p = persistence as { limitInflight?: (l: InflightLimits) => void };
  p.limitInflight?.({ perClient: limits.maxInflight, total: limits.maxInflightTotal });
}

/** Client errors: limits hit are violations (counted, logged); the rest is debug. */
function reportClientErrors(
  aedes: Aedes,
  security: BrokerSecurity,
  limits: MqttLimitsConfig,
  log: Logger,
): void {
  aedes.on('clientError', (client, err) => {
    if (err instanceof InflightLimitError)
      security.violation('inflight_exceeded', {
        clientId: client.id,
        held: err.held,
        scope: err.scope,
        max: err.scope === 'client' ? limits.maxInflight : limits.maxInflightTotal,
        reason: err.message,
        hint: 'the client must send PUBREL for the QoS 2 messages it has in flight',
      });
    else if (err.message.startsWith('maxInflightInbound exceeded'))
      security.violation('inflight_exceeded', {
        clientId: client.id,
        scope: 'connection',
        max: limits.maxInflight,
      });
    log.debug(
      { event: 'mqtt.client_error', clientId: client.id, err: err.message },
      'client error',
    );
  });
  aedes.on('connectionError', (_client, err) => {
    log.debug({ event: 'mqtt.connection_error', err: err.message }, 'connection error');
  });
}

/** What each accepted socket gets before aedes reads from it. */
function connectionSetup(
  aedes: Aedes,
  persistence: unknown,
  limits: MqttLimitsConfig,
  security: BrokerSecurity,
  log: Logger,
): (sock: Socket) => void {
  const idInUse = inFlightIds(persistence);
  let guarded = true;
  return (sock: Socket) => {
    coalesceWrites(sock);
    const client = aedes.handle(sock);
    if (idInUse !== undefined) allocateIdsSkippingInFlight(client, idInUse);
    guarded &&= guardPacketSize(client, limits.maxPacketBytes, (n) =>
      security.violation('packet_too_large', {
        remote: sock.remoteAddress,
        bytes: n,
        max: limits.maxPacketBytes,
      }),
    );
    if (!guarded)
      log.warn({ event: 'mqtt.packet_guard_unavailable' }, 'packet size checked after buffering');
  };
}

/** The TCP listener, and the TLS one when configured; closes what it opened on failure. */
async function startListeners(
  opts: EmbeddedBrokerOptions,
  tlsOptions: Awaited<ReturnType<typeof readTlsFiles>> | undefined,
  onConnection: (sock: Socket) => void,
  security: BrokerSecurity,
): Promise<Server[]> {
  const onDrop = (d?: { remoteAddress?: string }) =>
    security.violation('max_connections', { remote: d?.remoteAddress, max: opts.maxConnections });
  // Nagle + delayed ACK would hold each small PUBREC/PUBCOMP for up to 40 ms.
  const server = createServer({ noDelay: true }, onConnection);
  server.maxConnections = opts.maxConnections;
  server.on('drop', onDrop);
  const servers: Server[] = [server];
  try {
    await listen(server, opts.port, opts.host, opts.reusePort);
    if (opts.tls !== undefined && tlsOptions !== undefined) {
      const tlsServer = createTlsServer(tlsOptions, (sock) => {
        sock.setNoDelay(true);
        onConnection(sock);
      });
      tlsServer.maxConnections = opts.maxConnections;
      tlsServer.on('drop', onDrop);
      tlsServer.on('tlsClientError', (err, sock) =>
        security.violation('tls_handshake', { remote: sock.remoteAddress, err: err.message }),
      );
      servers.push(tlsServer);
      await listen(tlsServer, opts.tls.port, opts.tls.host, opts.reusePort);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return servers;
}

/** The persistence's "packet id in flight" query, when it has one (ours do). */
function inFlightIds(persistence: unknown): IdInUse | undefined {
  const p = persistence as { outgoingIdInUse?: IdInUse };
  return typeof p.outgoingIdInUse === 'function' ? p.outgoingIdInUse.bind(persistence) : undefined;
}

async function listen(
  server: Server,
  port: number,
  host: string,
  reusePort = false,
): Promise<void> {
  server.listen(reusePort ? { port, host, reusePort: true } : { port, host });
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => Promise.reject(err as Error)),
    ]);
  } catch (err) {
    throw new AgentError(
      'EDGEFLOW_LISTEN_FAILED',
      `MQTT listener ${host}:${port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function readTlsFiles(tls: MqttTlsConfig) {
  const read = async (what: string, path: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new AgentError(
        'EDGEFLOW_TLS_FILES',
        `mqtt.tls.${what} ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  };
  const ca = tls.caFile === undefined ? undefined : await read('caFile', tls.caFile);
  if (tls.requireClientCert && ca === undefined)
    throw new AgentError(
      'EDGEFLOW_TLS_FILES',
      'mqtt.tls.requireClientCert needs mqtt.tls.caFile (the CA that signs client certificates)',
    );
  return {
    cert: await read('certFile', tls.certFile),
    key: await read('keyFile', tls.keyFile),
    ...(ca !== undefined ? { ca } : {}),
    // Ask for a certificate whenever a CA is configured; refuse its absence only if required.
    requestCert: ca !== undefined,
    rejectUnauthorized: tls.requireClientCert,
    minVersion: 'TLSv1.2' as const,
  };
}
