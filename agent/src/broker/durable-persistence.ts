import type { Client } from 'aedes';
import type { DurableLog } from '../wal/durable-log.js';
import type { QueuedMessage, SessionRecord, SubscriptionRec } from '../wal/records.js';
import { packetOf, queuedMessageOf, type SessionState } from '../wal/session-state.js';
import {
  MemoryPersistence,
  uniqueClients,
  type IncomingPacket,
  type QueuedSub,
} from './memory-persistence.js';
import type { PublishTags } from './qos2-forwarding.js';
import type { OutgoingPacket } from './outgoing-store.js';

/** A client's QoS 2 PUBLISH between its numbering and the end of its publish flow. */
interface PendingPublish {
  clientId: string;
  messageId: number;
  /** Its entries in the queues of persistent subscribers, for the publisher's record. */
  enqueue: { cs: string[]; pk: QueuedMessage } | undefined;
  /** The subscribers whose entries the publisher's record holds (set when it took them). */
  recorded?: ReadonlySet<string>;
  /** Subscribers aedes queued it for in memory (undone if the publish fails). */
  queued?: readonly string[];
  /** A QoS 1 message queued before PUBACK (queueEarly): aedes's own enqueue only adds others. */
  early?: boolean;
  pk: QueuedMessage;
}

/**
 * The log as the persistence uses it: DurableLog on the main thread, WorkerLog in an ingest
 * worker (records go to the main thread's log).
 */
export type DurableSink = Pick<DurableLog, 'write' | 'append' | 'knowsClient' | 'incoming'>;

export interface DurablePersistenceDeps {
  durable: DurableSink;
  /**
   * The committed persistent sessions (DurableLog.sessions). Absent in an ingest worker, where
   * the session state lives on the main thread (WorkerPersistence overrides every method that
   * reads it).
   */
  sessions?: SessionState;
  /** A QoS 2 PUBLISH retransmission was recognised and not applied again. */
  onDuplicate?: () => void;
  /** A session record appended without waiting could not be made durable. */
  onSessionError?: (err: Error) => void;
}

/**
 * aedes persistence: aedes-persistence's in-memory store, with the incoming QoS 2 state
 * (the duplicate filter of [MQTT-4.3.3-2]) made durable through the write-ahead log.
 *
 * - "received P from C" is written by the ingest hook together with the cache update, in one
 *   record, before PUBREC (see DurableIngest); `incomingStorePacket` only fills the memory map.
 * - PUBREL deletes the id durably before PUBCOMP: otherwise a crash after PUBCOMP would keep a
 *   stale id and the client's next, new message with that id would be dropped as a duplicate.
 * - A clean-session connect drops the client's ids durably.
 * - `setup` restores the ids replayed from the log, so a retransmitted PUBLISH after a restart
 *   is answered with PUBREC and not applied twice.
 *
 *
 * Persistent sessions (`clean: false`) are durable too, through session records in the same
 * log (see records.ts `SessionRecord`); their committed state is restored by `setup`:
 * - the subscribers' queue entries of a client's QoS 2 message are part of the publisher's
 *   own record ("P from C received" + readings), written and fsynced before aedes forwards the
 *   message at all (embedded-broker.ts `consumeQos2BeforeForwarding`): both are on disk, or
 *   neither. With aedes's own order (queue, deliver, then the `published` hook) a crash in
 *   between left the message queued or delivered while the publisher's retransmission was
 *   not recognised as one: delivered twice. Other QoS 1/2 messages (QoS 1 publishes, the
 *   agent's own) are queued by a record of their own, on disk before the flow goes on;
 * - a packet id given to a queued message, and the PUBREL that replaces it, are on disk before
 *   the PUBLISH / PUBREL goes out, so a retransmission after a crash carries the same id;
 * - SUBACK / UNSUBACK wait for the subscription change to be on disk;
 * - PUBACK/PUBCOMP removals and retained messages are appended without waiting: the next
 *   waited record covers them, and replaying them late is harmless.
 * Wills are kept in memory only.
 */
export class DurablePersistence extends MemoryPersistence implements PublishTags {
  readonly #deps: DurablePersistenceDeps;
  /** By broker counter. */
  readonly #pending = new Map<number, PendingPublish>();
  /** `clientId \0 messageId` -> broker counter */
  readonly #pendingByPacket = new Map<string, number>();

  constructor(deps: DurablePersistenceDeps, opts: object = {}) {
    super(opts);
    this.#deps = deps;
  }

  /** The committed session state (main thread only). */
  get #sessions(): SessionState {
    const s = this.#deps.sessions;
    if (s === undefined) throw new Error('DurablePersistence: no committed session state here');
    return s;
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const sessions = this.#sessions;
    for (const [c, subs] of sessions.subs)
      await super.addSubscriptions({ id: c }, [...subs.values()]);
    for (const p of sessions.retained.values()) await super.storeRetained(p);
    for (const [c, q] of sessions.outgoing.queues())
      for (const p of q) this.outgoing.enqueue(c, { ...p });
    for (const c of sessions.sessions) this.sessions.add(c);
    for (const [c, ids] of this.#deps.durable.incoming) {
      for (const [m, topic] of ids) {
        this.storeIncoming(c, {
          cmd: 'publish',
          topic,
          messageId: m,
          qos: 2,
          payload: Buffer.alloc(0),
        } as never);
      }
    }
  }

  override incomingGetPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<unknown> {
    const found = super.incomingGetPacket(client, packet);
    const onDuplicate = this.#deps.onDuplicate;
    if (packet.cmd !== 'publish' || onDuplicate === undefined) return found;
    return found.then((p) => {
      onDuplicate();
      return p;
    });
  }

  override incomingDelPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void> {
    return super.incomingDelPacket(client, packet).then(() => {
      const m = packet.messageId;
      if (m === undefined) return undefined;
      return new Promise<void>((resolve, reject) =>
        this.#deps.durable.write({ t: 'r', c: client.id, m }, undefined, (err) => {
          if (err === undefined) return resolve();
          // aedes sends PUBCOMP even when this rejects, so cut the connection first: the client
          // keeps the PUBREL and retransmits it on reconnect; memory goes back to match the disk.
          (client as Partial<Pick<Client, 'conn'>>).conn?.destroy();
          this.storeIncoming(client.id, { ...packet, cmd: 'publish' });
          reject(err);
        }),
      );
    });
  }

  override async cleanIncoming(client: Pick<Client, 'id'>): Promise<void> {
    await super.cleanIncoming(client);
    if (this.#deps.durable.knowsClient(client.id))
      await this.#deps.durable.append({ t: 'x', c: client.id });
  }

  /** Forgets an id whose record could not be made durable, so that a retransmission is applied. */
  async forgetIncoming(clientId: string, messageId: number): Promise<void> {
    await super.incomingDelPacket({ id: clientId }, { cmd: 'publish', messageId }).catch(() => {});
  }

  /** Appends a session record; `wait`: resolve after its fsync, else once it is in the log. */
  #record(rec: SessionRecord, wait: boolean): Promise<void> {
    if (!wait) {
      this.#deps.durable.write(rec, undefined, (err) => {
        if (err !== undefined) this.#deps.onSessionError?.(err);
      });
      return Promise.resolve();
    }
    return this.#deps.durable.append(rec);
  }

  override async addSubscriptions(
    client: Pick<Client, 'id'>,
    subs: SubscriptionRec[],
  ): Promise<void> {
    await super.addSubscriptions(client, subs);
    await this.#record({ t: 'sa', c: client.id, subs: subs.map((s) => ({ ...s })) }, true);
  }

  override async removeSubscriptions(client: Pick<Client, 'id'>, topics: string[]): Promise<void> {
    await super.removeSubscriptions(client, topics);
    await this.#record({ t: 'sr', c: client.id, topics: [...topics] }, true);
  }

  override async cleanSubscriptions(client: Pick<Client, 'id'>): Promise<void> {
    // aedes calls this at every clean-session connect: write only when there was something.
    const had = ((await super.subscriptionsByClient(client)) ?? []).length > 0;
    await super.cleanSubscriptions(client);
    const committed = this.#sessions;
    if (had || committed.subs.has(client.id)) await this.#record({ t: 'sc', c: client.id }, true);
    if (committed.sessions.has(client.id)) await this.#record({ t: 'sx', c: client.id }, true);
  }

  /** The session exists from now on, durably before CONNACK (see MemoryPersistence). */
  override async sessionPresent(client: Pick<Client, 'id'>): Promise<boolean> {
    const existed = await super.sessionPresent(client);
    if (!this.#sessions.sessions.has(client.id))
      await this.#record({ t: 'sn', c: client.id }, true);
    return existed;
  }

  override async storeRetained(packet: Record<string, unknown>): Promise<void> {
    await super.storeRetained(packet);
    await this.#record({ t: 'rt', pk: queuedMessageOf(packet) }, false);
  }

  publishStarted(
    packet: object,
    clientId: string,
    messageId: number,
    subs: readonly { clientId: string }[],
  ): void {
    const pk = queuedMessageOf(packet as Record<string, unknown>);
    const cs = uniqueClients(subs);
    this.#pending.set(pk.bc, {
      clientId,
      messageId,
      pk,
      enqueue: cs.length > 0 ? { cs, pk } : undefined,
    });
    this.#pendingByPacket.set(`${clientId}\0${messageId}`, pk.bc);
  }

  publishFinished(counter: number, err: Error | null | undefined): void {
    const p = this.#pending.get(counter);
    if (p === undefined) return;
    this.#pending.delete(counter);
    this.#pendingByPacket.delete(`${p.clientId}\0${p.messageId}`);
    // Not acknowledged: the publisher retransmits, and the message is queued again then.
    if (err && p.queued !== undefined && p.queued.length > 0)
      this.unqueue(p.queued, p.pk.bid, p.pk.bc);
  }

  /** Takes a message out of subscribers' queues (its publish failed); see publishFinished. */
  protected unqueue(clientIds: readonly string[], bid: string, bc: number): void {
    for (const c of clientIds) this.outgoing.removeMessage(c, bid, bc);
  }

  /**
   * Queues the entries a publisher's committed record held (records.ts `p.q`), in memory: the
   * main thread's side of an ingest worker's publish, whose record it did not write itself.
   */
  enqueueRecorded(cs: readonly string[], pk: QueuedMessage): void {
    for (const c of cs) this.outgoing.enqueue(c, packetOf(pk));
  }

  /**
   * The subscribers' queue entries of client `clientId`'s QoS 2 message `messageId`, for the
   * ingest hook to put in the publisher's record (undefined: no persistent subscriber).
   */
  takeEnqueue(
    clientId: string,
    messageId: number,
  ): { cs: string[]; pk: QueuedMessage } | undefined {
    const counter = this.#pendingByPacket.get(`${clientId}\0${messageId}`);
    const p = counter === undefined ? undefined : this.#pending.get(counter);
    if (p === undefined) return undefined;
    p.recorded = new Set(p.enqueue?.cs ?? []);
    return p.enqueue;
  }

  async queueEarly(
    packet: object,
    clientId: string,
    messageId: number,
    subs: readonly { clientId: string }[],
  ): Promise<void> {
    this.publishStarted(packet, clientId, messageId, subs);
    const counter = (packet as { brokerCounter?: number }).brokerCounter ?? 0;
    const p = this.#pending.get(counter);
    if (p === undefined || p.enqueue === undefined) return;
    p.early = true;
    p.recorded = new Set(p.enqueue.cs);
    this.enqueueInMemory(subs, packet);
    try {
      await this.recordEnqueue(p.enqueue.cs, p.enqueue.pk);
    } catch (err) {
      // Not acknowledged: the client retransmits and the message is queued again then.
      this.#pending.delete(counter);
      this.#pendingByPacket.delete(`${clientId}\0${messageId}`);
      this.unqueue(p.enqueue.cs, p.pk.bid, p.pk.bc);
      throw err;
    }
  }

  override outgoingEnqueueCombi(subs: readonly QueuedSub[], packet: object): Promise<void> {
    if (subs.length === 0) return Promise.resolve();
    const counter = (packet as { brokerCounter?: unknown }).brokerCounter;
    const pending = typeof counter === 'number' ? this.#pending.get(counter) : undefined;
    if (pending?.early === true) {
      // aedes's own enqueue of a QoS 1 message queued before PUBACK: its publish flow ends here
      // for this bookkeeping (QoS 1 has no publishFinished).
      this.#pending.delete(counter as number);
      this.#pendingByPacket.delete(`${pending.clientId}\0${pending.messageId}`);
      const recorded = pending.recorded ?? new Set<string>();
      const others = subs.filter((x) => !recorded.has(x.clientId));
      if (others.length === 0) return Promise.resolve();
      this.enqueueInMemory(others, packet);
      return this.recordEnqueue(uniqueClients(others), pending.pk);
    }
    this.enqueueInMemory(subs, packet);
    const all = uniqueClients(subs);
    if (pending !== undefined) pending.queued = all;
    // Entries the publisher's record already holds are durable; a subscriber that appeared
    // since (or a message without such a record: QoS 1, the agent's own) gets its own record.
    const recorded = pending?.recorded;
    const cs = recorded === undefined ? all : all.filter((c) => !recorded.has(c));
    if (cs.length === 0) return Promise.resolve();
    const pk = pending?.pk ?? queuedMessageOf(packet as Record<string, unknown>);
    return this.recordEnqueue(cs, pk);
  }

  /** The in-memory half of {@link outgoingEnqueueCombi} (a worker's queues are elsewhere). */
  protected enqueueInMemory(subs: readonly QueuedSub[], packet: object): void {
    void super.outgoingEnqueueCombi(subs, packet);
  }

  /** Queue entries no publisher's record holds: a record of their own, durable when it resolves. */
  protected recordEnqueue(cs: string[], pk: QueuedMessage): Promise<void> {
    return this.#record({ t: 'oe', cs, pk }, true);
  }

  override outgoingEnqueue(sub: QueuedSub, packet: object): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  override outgoingUpdate(client: Pick<Client, 'id'>, packet: OutgoingPacket): Promise<void> {
    // A retransmission after a reconnect whose id is already committed (the log's applied
    // state says so) needs no record: the queue is resent one message at a time, and an
    // fsync each would make a resend crawl.
    const unchanged =
      packet.cmd === 'publish' &&
      packet.brokerId !== undefined &&
      packet.messageId !== undefined &&
      this.#sessions.outgoing.messageIdOf(client.id, packet.brokerId, packet.brokerCounter ?? 0) ===
        packet.messageId;
    // The in-memory queue takes the id at once (the next id assigned must skip it).
    const updated = super.outgoingUpdate(client, packet);
    if (unchanged) return updated;
    const m = packet.messageId;
    if (m === undefined) return updated;
    if (packet.cmd === 'pubrel')
      return updated.then(() => this.#record({ t: 'ol', c: client.id, m }, true));
    const rec: SessionRecord = {
      t: 'ou',
      c: client.id,
      bid: packet.brokerId ?? '',
      bc: packet.brokerCounter ?? 0,
      m,
    };
    return updated.then(() => this.#record(rec, true));
  }

  protected override async dropOutgoing(clientId: string): Promise<void> {
    await super.dropOutgoing(clientId);
    await this.#record({ t: 'ox', c: clientId }, true);
  }

  override outgoingClearMessageId(
    client: Pick<Client, 'id'>,
    packet: Pick<OutgoingPacket, 'messageId'> | number,
  ): Promise<OutgoingPacket | undefined> {
    return super.outgoingClearMessageId(client, packet).then((found) => {
      const m = found?.messageId;
      if (m !== undefined) void this.#record({ t: 'od', c: client.id, m }, false);
      return found;
    });
  }
}
