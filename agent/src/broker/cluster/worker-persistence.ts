import { Readable } from 'node:stream';
import type { Client } from 'aedes';
import type { QueuedMessage, SubscriptionRec } from '../../wal/records.js';
import { packetOf } from '../../wal/session-state.js';
import { DurablePersistence } from '../durable-persistence.js';
import { MemoryPersistence } from '../memory-persistence.js';
import type { OutgoingPacket } from '../outgoing-store.js';
import {
  revive,
  toWire,
  type ClaimGrant,
  type SessionApi,
  type SubsChange,
} from './session-api.js';

/** The main thread's session API as a worker calls it. */
export interface SessionCaller {
  call<K extends keyof SessionApi & string>(
    method: K,
    ...args: Parameters<SessionApi[K]>
  ): Promise<Awaited<ReturnType<SessionApi[K]>>>;
  note<K extends keyof SessionApi & string>(method: K, args: Parameters<SessionApi[K]>): void;
}

const memory = MemoryPersistence.prototype;

/**
 * An ingest worker's aedes persistence. DurablePersistence over the worker's WorkerLog (or, with
 * `ingest.durability: memory`, over a log that keeps nothing) keeps what is per connection and
 * hot: the incoming QoS 2 ids of the clients this worker serves (with their log records), the
 * QoS 2 publish bookkeeping, the wills; everything a client must
 * find again on whichever worker it reconnects to (subscriptions, retained messages, outgoing
 * queues, session existence) is the main thread's, through {@link SessionCaller}. Persistent
 * subscriptions are also replicated here, so that the publish path (subscriptionsByTopic, and
 * `hasPersistentSessions` for the fast path) never leaves the thread.
 */
/** aedes's client object: a closed one is a connection its client already left. */
function closed(client: object): boolean {
  return (client as { closed?: unknown }).closed === true;
}

const movedError = (clientId: string) =>
  Object.assign(
    new Error(`the connection of ${clientId} is closed: its client is served elsewhere`),
    {
      code: 'EDGEFLOW_CLIENT_MOVED',
    },
  );

export class WorkerPersistence extends DurablePersistence {
  /** The session API on the main thread (set before aedes starts). */
  sessionHost!: SessionCaller;
  /** Subscription changes the main thread sent (shared), and how many this replica applied. */
  #subsEpoch: Int32Array = new Int32Array(1);
  #applied = 0;

  /** The main thread's count of subscription changes, and the one this replica starts at. */
  followSubscriptions(shared: Int32Array, startAt: number): void {
    this.#subsEpoch = shared;
    this.#applied = startAt;
  }

  #behind(): boolean {
    return this.#applied < Atomics.load(this.#subsEpoch, 0);
  }

  /**
   * Waits until the replica has applied every subscription change the main thread sent: a
   * client that saw its SUBACK may have made a publisher send right after, and that publish
   * must be matched against the new subscription (the change is on its way, in this worker's
   * port: yielding to the event loop delivers it).
   */
  async #fresh(): Promise<void> {
    while (this.#behind()) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  override hasPersistentSessions(): boolean {
    return super.hasPersistentSessions() || this.#behind();
  }

  override async subscriptionsByTopic(
    topic: string,
  ): Promise<{ clientId: string; topic: string }[]> {
    await this.#fresh();
    return super.subscriptionsByTopic(topic);
  }
  /** Packet ids in flight to the clients served here (aedes allocates ids synchronously). */
  readonly #outIds = new Map<string, Set<number>>();

  /** Applies a subscription change from the main thread to the local replica. */
  async applySubs(change: SubsChange, counted = true): Promise<void> {
    if (counted) this.#applied++;
    const client = { id: change.c };
    // MemoryPersistence's own methods: the replica only mirrors, it records nothing.
    if (change.t === 'add') await memory.addSubscriptions.call(this, client, change.subs);
    else if (change.t === 'remove')
      await memory.removeSubscriptions.call(this, client, change.topics);
    else await memory.cleanSubscriptions.call(this, client);
  }

  /** Installs what the main thread granted for a client this worker now serves. */
  adoptClient(clientId: string, grant: ClaimGrant): void {
    for (const [m, topic] of grant.incoming)
      this.storeIncoming(clientId, { cmd: 'publish', messageId: m, topic });
    if (grant.outIds.length > 0) this.#outIds.set(clientId, new Set(grant.outIds));
  }

  /** Forgets a client's incoming ids and outgoing id mirror (it moved or left). */
  dropClient(clientId: string): void {
    void memory.cleanIncoming.call(this, { id: clientId });
    this.#outIds.delete(clientId);
  }

  override async setup(broker: unknown): Promise<void> {
    await memory.setup.call(this, broker);
  }

  override async addSubscriptions(
    client: Pick<Client, 'id'>,
    subs: SubscriptionRec[],
  ): Promise<void> {
    await this.sessionHost.call('subscribe', client.id, subs);
  }

  override async removeSubscriptions(client: Pick<Client, 'id'>, topics: string[]): Promise<void> {
    await this.sessionHost.call('unsubscribe', client.id, topics);
  }

  override async cleanSubscriptions(client: Pick<Client, 'id'>): Promise<void> {
    await this.sessionHost.call('cleanSubscriptions', client.id);
  }

  override sessionPresent(client: Pick<Client, 'id'>): Promise<boolean> {
    return this.sessionHost.call('sessionPresent', client.id);
  }

  /**
   * Sent without waiting (the main thread logs it without waiting too, like DurablePersistence):
   * a publish waiting for the reply would let the publisher's next message overtake it on the
   * way to the queues, and per-publisher order must hold [MQTT-4.6.0-6].
   */
  override storeRetained(packet: Record<string, unknown>): Promise<void> {
    this.sessionHost.note('storeRetained', [toWire(packet)]);
    return Promise.resolve();
  }

  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(this.#retained(patterns));
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.#retained([pattern]));
  }

  async *#retained(patterns: string[]): AsyncGenerator<object> {
    for (const p of await this.sessionHost.call('retained', patterns)) yield revive(p);
  }

  protected override enqueueInMemory(): void {
    // The queues are the main thread's: recorded entries reach them with the publisher's
    // record, the others through recordEnqueue.
  }

  protected override recordEnqueue(cs: string[], pk: QueuedMessage): Promise<void> {
    return this.sessionHost.call('enqueue', cs, toWire(packetOf(pk)));
  }

  protected override unqueue(clientIds: readonly string[], bid: string, bc: number): void {
    this.sessionHost.note('unqueue', [[...clientIds], bid, bc]);
  }

  override async outgoingUpdate(client: Pick<Client, 'id'>, packet: OutgoingPacket): Promise<void> {
    // A delivery to a connection already closed (its listeners go a moment later): nothing to
    // number; the client's serving connection has the message from its queue. (A PUBREL, and
    // the removal on PUBACK/PUBCOMP, are the client's own acknowledgements: recorded even when
    // its connection is closing, or the message would be sent again.)
    if (packet.cmd === 'publish' && closed(client)) throw movedError(client.id);
    const m = packet.messageId;
    if (m !== undefined) {
      // Taken at once: the next id aedes assigns must skip it (packet-ids.ts).
      let ids = this.#outIds.get(client.id);
      if (ids === undefined) this.#outIds.set(client.id, (ids = new Set()));
      ids.add(m);
    }
    await this.sessionHost.call('update', client.id, toWire(packet));
  }

  override async outgoingClearMessageId(
    client: Pick<Client, 'id'>,
    packet: Pick<OutgoingPacket, 'messageId'> | number,
  ): Promise<OutgoingPacket | undefined> {
    const m = typeof packet === 'number' ? undefined : packet.messageId;
    const found = await this.sessionHost.call('clear', client.id, m);
    if (m !== undefined && found !== undefined) this.#outIds.get(client.id)?.delete(m);
    return found === undefined ? undefined : revive(found);
  }

  override outgoingStream(client: Pick<Client, 'id'>): Readable {
    const host = this.sessionHost;
    return Readable.from(
      (async function* () {
        for (const p of await host.call('stream', client.id)) yield revive(p);
      })(),
    );
  }

  override outgoingIdInUse(clientId: string, messageId: number): boolean {
    return this.#outIds.get(clientId)?.has(messageId) ?? false;
  }
}
