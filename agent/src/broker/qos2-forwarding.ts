import type { Aedes, Client, PublishPacket } from 'aedes';

/**
 * A persistence whose subscriber queues become durable with the publisher's own record
 * (DurablePersistence implements it; see {@link consumeQos2BeforeForwarding}).
 */
export interface PublishTags {
  /** Whether any client holds a persistent session (subscriptions or a queue). */
  hasPersistentSessions(): boolean;
  /** The persistent subscriptions matching a topic (aedes-persistence's). */
  subscriptionsByTopic(topic: string): Promise<{ clientId: string; topic: string }[]>;
  /**
   * A QoS 2 PUBLISH of `clientId` with packet id `messageId` is broker message `packet`
   * (brokerId, brokerCounter set), to be queued for `subs`: the ingest hook that runs next puts
   * those queue entries into its record.
   */
  publishStarted(
    packet: object,
    clientId: string,
    messageId: number,
    subs: readonly { clientId: string }[],
  ): void;
  /** aedes finished the publish flow of broker message `counter`. */
  publishFinished(counter: number, err: Error | null | undefined): void;
  /**
   * A QoS 1 PUBLISH of `clientId` (numbered, see {@link queueQos1BeforeAck}) is queued for
   * `subs` now, in memory and durably, before PUBACK; aedes's own enqueue later skips them.
   */
  queueEarly(
    packet: object,
    clientId: string,
    messageId: number,
    subs: readonly { clientId: string }[],
  ): Promise<void>;
}

/**
 * With a persistence that implements {@link PublishTags}: queues a client's QoS 1 PUBLISH for
 * persistent subscribers before PUBACK (returns undefined when nobody holds a persistent
 * session). aedes writes PUBACK first and queues afterwards, so a crash in between lost an
 * acknowledged message for every offline persistent subscriber, and a subscriber reconnecting
 * meanwhile (through another ingest worker: the queue is on the main thread) replayed its queue
 * without it and then got it live, out of the publisher's order [MQTT-4.6.0-6]. The message is
 * numbered here (brokerId, brokerCounter, kept by aedes-packet) so the entries have the identity
 * aedes gives it later.
 */
export function queueQos1BeforeAck(
  aedes: Aedes,
  persistence: unknown,
): ((packet: PublishPacket, client: Client) => Promise<void> | undefined) | undefined {
  const t = persistence as Partial<PublishTags>;
  if (
    typeof t.queueEarly !== 'function' ||
    typeof t.hasPersistentSessions !== 'function' ||
    typeof t.subscriptionsByTopic !== 'function'
  )
    return undefined;
  const tags = t as PublishTags;
  const broker = aedes as unknown as { id: string; counter: number };
  return (packet, client) => {
    const messageId = packet.messageId;
    if (messageId === undefined || !tags.hasPersistentSessions()) return undefined;
    const numbered = packet as PublishPacket & { brokerId?: string; brokerCounter?: number };
    numbered.brokerId = broker.id;
    numbered.brokerCounter = ++broker.counter;
    return tags.subscriptionsByTopic(packet.topic).then((subs) => {
      if (subs.length === 0) return undefined;
      return tags.queueEarly(packet, client.id, messageId, subs);
    });
  };
}

type PublishFn = (
  packet: PublishPacket,
  client: Client | null,
  done: (err?: Error | null) => void,
) => void;

/**
 * With a persistence that implements {@link PublishTags}, a client's QoS 2 PUBLISH is consumed
 * (decoded, logged, fsynced) *before* aedes forwards it, and that one log record also holds
 * the message's entries in the queues of persistent subscribers. aedes's own order (queue for
 * subscribers, deliver to online ones, then the `published` hook) would put a message on a
 * subscriber's wire, or in its durable queue, before "P from C received" is on disk: after a
 * crash the publisher's retransmission would be taken for a new message and delivered again.
 *
 * The message is numbered here (brokerId, brokerCounter, which aedes-packet keeps when they
 * are set) so that the record can name the queue entries aedes will create. Numbering before
 * the disk write means messages reach aedes's emitter out of numbering order, which is safe
 * only with the aedes patch `dedupe-by-message` (aedes-patches.ts; issue 19 D1).
 * Relies on `Aedes#publish` and `Aedes#counter` (contract `numbered-qos2` in internals.ts);
 * the upstream hook that would remove this: a QoS 2 "before forward" hook, called after the
 * duplicate check and before queueing and delivery, that may number and record the message.
 */
export function consumeQos2BeforeForwarding(
  aedes: Aedes,
  persistence: unknown,
  consume: (packet: PublishPacket, client: Client) => void | Promise<void>,
  consumedEarly: WeakSet<object>,
): void {
  const tags = persistence as Partial<PublishTags>;
  if (
    typeof tags.publishStarted !== 'function' ||
    typeof tags.publishFinished !== 'function' ||
    typeof tags.subscriptionsByTopic !== 'function' ||
    typeof tags.hasPersistentSessions !== 'function'
  )
    return;
  const t = tags as PublishTags;
  const broker = aedes as unknown as { id: string; counter: number; publish: PublishFn };
  const publish = broker.publish.bind(aedes);
  broker.publish = (packet, client, done) => {
    if (typeof client === 'function' || client === null || packet.qos !== 2)
      return publish(packet, client, done);
    const messageId = packet.messageId;
    if (messageId === undefined) return publish(packet, client, done);
    const numbered = packet as PublishPacket & { brokerId?: string; brokerCounter?: number };
    numbered.brokerId = broker.id;
    const counter = (numbered.brokerCounter = ++broker.counter);
    let started = false;
    const finish = (err?: Error | null) => {
      if (started) t.publishFinished(counter, err);
      done(err);
    };
    const go = (subs: readonly { clientId: string }[]) => {
      if (subs.length > 0) {
        started = true;
        t.publishStarted(packet, client.id, messageId, subs);
      }
      const pending = consume(packet, client);
      const forward = () => {
        consumedEarly.add(packet);
        publish(packet, client, finish);
      };
      if (pending === undefined) forward();
      else pending.then(forward, (err: unknown) => finish(err as Error));
    };
    // Without any persistent session there is nobody to queue for: no lookup, no bookkeeping
    // (a subscriber that appears meanwhile gets a queue record of its own).
    if (!t.hasPersistentSessions()) return go([]);
    t.subscriptionsByTopic(packet.topic).then(go, (err: unknown) => finish(err as Error));
  };
}
