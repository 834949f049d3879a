import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Client } from 'aedes';
import { AgentError } from '../errors.js';
import { OutgoingStore, type OutgoingPacket } from './outgoing-store.js';

/** The part of an aedes packet the incoming methods look at. */
export interface IncomingPacket {
  cmd: string;
  messageId?: number | undefined;
  topic?: string;
}

/** aedes-persistence's in-memory implementation (async interface, what aedes 1.x calls). */
interface MemoryPersistenceBase {
  setup(broker: unknown): Promise<void>;
  incomingStorePacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void>;
  incomingGetPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<unknown>;
  incomingDelPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void>;
  cleanIncoming(client: Pick<Client, 'id'>): Promise<void>;
  addSubscriptions(
    client: Pick<Client, 'id'>,
    subs: { topic: string; qos: number }[],
  ): Promise<void>;
  removeSubscriptions(client: Pick<Client, 'id'>, topics: string[]): Promise<void>;
  cleanSubscriptions(client: Pick<Client, 'id'>): Promise<void>;
  subscriptionsByClient(
    client: Pick<Client, 'id'>,
  ): Promise<{ topic: string; qos: number }[] | null>;
  storeRetained(packet: object): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  subscriptionsByTopic(topic: string): Promise<{ clientId: string; topic: string }[]>;
}

/**
 * The client ids of matching subscriptions, each once. aedes-persistence's subscriptionsByTopic
 * returns one entry per matching subscription, so a client with overlapping filters (`a/#`
 * and `a/+`) would get the message queued twice under one identity; the replay sends it once
 * per connection (patch `queued-once`) and the second entry would stay queued, to be sent
 * again after the next reconnect. One entry per client, replayed at the highest QoS its
 * subscriptions grant ({@link MemoryPersistence.outgoingStream}) [MQTT-3.3.5-1].
 */
export function uniqueClients(subs: readonly QueuedSub[]): string[] {
  if (subs.length === 1) return [(subs[0] as QueuedSub).clientId];
  return [...new Set(subs.map((s) => s.clientId))];
}

/** Bounds of the inbound QoS 2 ids held (see MemoryPersistence.limitInflight). */
export interface InflightLimits {
  perClient: number;
  total: number;
  /**
   * Where the count of ids held is kept when several persistences share the total (one Int32
   * in shared memory: the ingest workers' brokers); absent: this persistence's own count.
   */
  shared?: Int32Array;
}

/** A new inbound QoS 2 id refused by {@link InflightLimits}: aedes closes the connection. */
export class InflightLimitError extends AgentError {
  readonly clientId: string;
  readonly held: number;
  readonly scope: 'client' | 'total';

  constructor(clientId: string, held: number, scope: 'client' | 'total', limits: InflightLimits) {
    super(
      'EDGEFLOW_MQTT_INFLIGHT_LIMIT',
      scope === 'client'
        ? `client ${clientId} holds ${held} QoS 2 messages awaiting PUBREL (mqtt.limits.maxInflight ${limits.perClient})`
        : `all clients hold ${limits.total} QoS 2 messages awaiting PUBREL (mqtt.limits.maxInflightTotal)`,
    );
    this.clientId = clientId;
    this.held = held;
    this.scope = scope;
  }
}

/** A subscription as aedes passes it to `outgoingEnqueue` (the subscriber's client id). */
export interface QueuedSub {
  clientId: string;
}

const require = createRequire(import.meta.url);
/** aedes-packet: the copy aedes-persistence keeps of a queued message (messageId cleared). */
const AedesPacket = require('aedes-packet') as new (p: object, broker?: unknown) => OutgoingPacket;
// The package has no ESM entry for its async class; its types live under types/.
const AsyncMemory = require('aedes-persistence/asyncPersistence.js') as new (
  opts?: object,
) => MemoryPersistenceBase;

/**
 * The rejection for "no such incoming packet". aedes asks for every new QoS 2 PUBLISH
 * ([MQTT-4.3.3-2] duplicate check) and treats a rejection as "new": creating an Error there
 * (stack capture) was 9 % of the broker's CPU in the ingest profile, so one instance is shared.
 */
const NO_SUCH_PACKET = Object.freeze(new Error('no such packet'));

/** The copy of a stored incoming PUBLISH (the fields aedes-packet keeps; the contract suite compares them). */
class StoredPacket {
  readonly cmd: string;
  readonly brokerId: unknown;
  readonly brokerCounter: unknown;
  readonly topic: string | undefined;
  readonly payload: unknown;
  readonly qos: number;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly messageId: number | undefined;

  constructor(p: IncomingPacket & Record<string, unknown>) {
    this.cmd = p.cmd || 'publish';
    this.brokerId = p.brokerId;
    this.brokerCounter = p.brokerCounter ?? 0;
    this.topic = p.topic;
    this.payload = p.payload ?? Buffer.alloc(0);
    this.qos = (p.qos as number | undefined) ?? 0;
    this.retain = (p.retain as boolean | undefined) ?? false;
    this.dup = (p.dup as boolean | undefined) ?? false;
    this.messageId = p.messageId;
  }
}

/**
 * aedes-persistence's in-memory store with two stores of our own:
 * - incoming QoS 2: a Map per client keyed by packet id (the base class uses an object with
 *   numeric keys and `delete`), and no Error allocated per "not found";
 * - outgoing queues ({@link OutgoingStore}): indexed instead of scanned, and able to tell which
 *   packet ids are in flight (the broker skips them when assigning ids, see packet-ids.ts).
 * Subscriptions, retained messages and wills are aedes-persistence's.
 */
export class MemoryPersistence extends AsyncMemory {
  readonly #incoming = new Map<string, Map<number, StoredPacket>>();
  /** Ids held over all clients (the sum of the #incoming map sizes). */
  #incomingTotal = 0;
  #limits: InflightLimits = { perClient: Infinity, total: Infinity };
  /** The live outgoing queues. */
  protected readonly outgoing = new OutgoingStore();

  constructor(opts: object = {}) {
    super(opts);
  }

  /**
   * Bounds the inbound QoS 2 ids held (awaiting PUBREL): per client id, across its connections
   * (aedes's own `maxInflightInbound` counts per connection only, so a `clean: false` client
   * that reconnects and never sends PUBREL grew the store without bound), and in total.
   */
  limitInflight(limits: InflightLimits): void {
    // A shared count set first (an ingest worker's) stays when the broker sets the bounds.
    const shared = limits.shared ?? this.#limits.shared;
    this.#limits = shared === undefined ? limits : { ...limits, shared };
  }

  /** Inbound QoS 2 ids held over all clients. */
  get inflightIncoming(): number {
    return this.#incomingTotal;
  }

  /** Ids held toward the total limit (all workers' when they share it). */
  #heldTotal(): number {
    const shared = this.#limits.shared;
    return shared === undefined ? this.#incomingTotal : Atomics.load(shared, 0);
  }

  #addTotal(n: number): void {
    this.#incomingTotal += n;
    if (this.#limits.shared !== undefined) Atomics.add(this.#limits.shared, 0, n);
  }

  override incomingStorePacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void> {
    const ids = this.#incoming.get(client.id);
    const id = packet.messageId ?? 0;
    if (ids?.has(id) !== true) {
      const held = ids?.size ?? 0;
      const { perClient, total } = this.#limits;
      if (held >= perClient || this.#heldTotal() >= total)
        return Promise.reject(
          new InflightLimitError(
            client.id,
            held,
            held >= perClient ? 'client' : 'total',
            this.#limits,
          ),
        );
    }
    this.storeIncoming(client.id, packet);
    return Promise.resolve();
  }

  /** A client's incoming QoS 2 ids held here: [packet id, topic]. */
  incomingIds(clientId: string): [number, string][] {
    return [...(this.#incoming.get(clientId) ?? [])].map(([m, p]) => [m, p.topic ?? '']);
  }

  /** Stores an incoming id without the limits (restoring what was already acknowledged). */
  protected storeIncoming(clientId: string, packet: IncomingPacket): void {
    let ids = this.#incoming.get(clientId);
    if (ids === undefined) this.#incoming.set(clientId, (ids = new Map<number, StoredPacket>()));
    const id = packet.messageId ?? 0;
    if (!ids.has(id)) this.#addTotal(1);
    ids.set(id, new StoredPacket(packet as IncomingPacket & Record<string, unknown>));
  }

  override incomingGetPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<unknown> {
    const found = this.#incoming.get(client.id)?.get(packet.messageId ?? 0);
    return found === undefined ? Promise.reject(NO_SUCH_PACKET) : Promise.resolve(found);
  }

  override incomingDelPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void> {
    const ids = this.#incoming.get(client.id);
    if (ids === undefined || !ids.delete(packet.messageId ?? 0))
      return Promise.reject(NO_SUCH_PACKET);
    this.#addTotal(-1);
    if (ids.size === 0) this.#incoming.delete(client.id);
    return Promise.resolve();
  }

  override cleanIncoming(client: Pick<Client, 'id'>): Promise<void> {
    this.#addTotal(-(this.#incoming.get(client.id)?.size ?? 0));
    this.#incoming.delete(client.id);
    return Promise.resolve();
  }

  outgoingEnqueue(sub: QueuedSub, packet: object): Promise<void> {
    this.outgoing.enqueue(sub.clientId, new AedesPacket(packet));
    return Promise.resolve();
  }

  outgoingEnqueueCombi(subs: readonly QueuedSub[], packet: object): Promise<void> {
    for (const c of uniqueClients(subs)) this.outgoing.enqueue(c, new AedesPacket(packet));
    return Promise.resolve();
  }

  outgoingUpdate(client: Pick<Client, 'id'>, packet: OutgoingPacket): Promise<void> {
    return this.outgoing.update(client.id, packet)
      ? Promise.resolve()
      : Promise.reject(NO_SUCH_PACKET);
  }

  outgoingClearMessageId(
    client: Pick<Client, 'id'>,
    packet: Pick<OutgoingPacket, 'messageId'> | number,
  ): Promise<OutgoingPacket | undefined> {
    const id = typeof packet === 'number' ? undefined : packet.messageId;
    return Promise.resolve(this.outgoing.clear(client.id, id));
  }

  /**
   * A client's queue, oldest first, each PUBLISH at min(its QoS, the highest QoS granted to
   * the client's subscriptions that match its topic) [MQTT-3.8.4-6]: entries are stored at
   * the published QoS (one record for all subscribers), and aedes replays them as given.
   */
  outgoingStream(client: Pick<Client, 'id'>): Readable {
    const entries = this.outgoing.list(client.id);
    if (entries.length === 0) return Readable.from(entries);
    const granted = new Map<string, Promise<number | undefined>>();
    const grantedFor = (topic: string) => {
      let g = granted.get(topic);
      if (g === undefined) {
        g = this.subscriptionsByTopic(topic).then((subs) => {
          let max: number | undefined;
          for (const s of subs as { clientId: string; qos?: number }[])
            if (s.clientId === client.id) max = Math.max(max ?? 0, s.qos ?? 0);
          return max;
        });
        granted.set(topic, g);
      }
      return g;
    };
    async function* downgraded() {
      for (const e of entries) {
        const p = e as OutgoingPacket & { topic?: string; qos?: number };
        if (p.cmd !== 'publish' || p.topic === undefined || p.qos === undefined) {
          yield e;
          continue;
        }
        const max = await grantedFor(p.topic);
        yield max === undefined || max >= p.qos ? e : { ...p, qos: max };
      }
    }
    return Readable.from(downgraded());
  }

  /** Client ids with stored subscriptions (persistent sessions; see session-expiry.ts). */
  readonly #subscribed = new Set<string>();
  /** Client ids whose session exists, whatever it holds (see {@link sessionPresent}). */
  protected readonly sessions = new Set<string>();

  /**
   * Whether the server holds a session for this client, for CONNACK's session present
   * [MQTT-3.2.2-2]; called by aedes (patch `session-present`) at every `clean: false`
   * connect, after which the session exists. A session is state of any kind (3.1.2.4): the
   * session itself, subscriptions, queued or unacknowledged messages, inbound QoS 2 ids.
   */
  sessionPresent(client: Pick<Client, 'id'>): Promise<boolean> {
    const id = client.id;
    const existed =
      this.sessions.has(id) ||
      this.#subscribed.has(id) ||
      this.outgoing.list(id).length > 0 ||
      this.#incoming.has(id);
    this.sessions.add(id);
    return Promise.resolve(existed);
  }

  override async addSubscriptions(
    client: Pick<Client, 'id'>,
    subs: { topic: string; qos: number }[],
  ): Promise<void> {
    this.#subscribed.add(client.id);
    await super.addSubscriptions(client, subs);
  }

  /** Called by aedes at every clean-session connect, and by {@link expireSession}. */
  override async cleanSubscriptions(client: Pick<Client, 'id'>): Promise<void> {
    this.#subscribed.delete(client.id);
    this.sessions.delete(client.id);
    await super.cleanSubscriptions(client);
  }

  /** Every client's stored subscriptions (for a replica of them, see SessionHost). */
  async persistentSubscriptions(): Promise<[string, { topic: string; qos: number }[]][]> {
    const out: [string, { topic: string; qos: number }[]][] = [];
    for (const c of this.#subscribed) {
      const subs = await super.subscriptionsByClient({ id: c });
      if (subs !== null && subs.length > 0) out.push([c, subs]);
    }
    return out;
  }

  /** Whether any client holds subscriptions or queued messages (cheap: no lookup). */
  hasPersistentSessions(): boolean {
    return this.#subscribed.size > 0 || this.outgoing.hasQueues;
  }

  /** Clients holding a persistent session: the session itself, subscriptions or queued messages. */
  *sessionClients(): IterableIterator<string> {
    const seen = new Set<string>();
    for (const id of this.sessions) {
      seen.add(id);
      yield id;
    }
    for (const id of this.#subscribed) {
      if (seen.has(id)) continue;
      seen.add(id);
      yield id;
    }
    for (const [id] of this.outgoing.queues()) if (!seen.has(id)) yield id;
  }

  /** Drops a session: subscriptions, queued messages, incoming packet ids. */
  async expireSession(clientId: string): Promise<void> {
    const client = { id: clientId } as Client;
    await this.cleanSubscriptions(client);
    await this.dropOutgoing(clientId);
    await this.cleanIncoming(client);
  }

  /** Drops a client's outgoing queue. */
  protected dropOutgoing(clientId: string): Promise<void> {
    this.outgoing.drop(clientId);
    return Promise.resolve();
  }

  /** A client's queue, oldest first (the main thread serves it to ingest workers). */
  queued(clientId: string): OutgoingPacket[] {
    return this.outgoing.list(clientId);
  }

  /** Whether a client's queue holds the message of this broker id and counter. */
  hasQueued(clientId: string, brokerId: string, brokerCounter: number): boolean {
    return this.outgoing.hasMessage(clientId, brokerId, brokerCounter);
  }

  /** Takes a message out of some clients' queues (its publish was not acknowledged). */
  removeQueued(clientIds: readonly string[], brokerId: string, brokerCounter: number): void {
    for (const c of clientIds) this.outgoing.removeMessage(c, brokerId, brokerCounter);
  }

  /** Whether a packet id is in flight to a client (see packet-ids.ts). */
  outgoingIdInUse(clientId: string, messageId: number): boolean {
    return this.outgoing.idInUse(clientId, messageId);
  }
}
