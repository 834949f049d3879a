import type { Client } from 'aedes';
import type { DurableLog } from '../wal/durable-log.js';
import { MemoryPersistence, type IncomingPacket } from './memory-persistence.js';

export type { IncomingPacket } from './memory-persistence.js';

export interface DurablePersistenceDeps {
  durable: DurableLog;
  /** A QoS 2 PUBLISH retransmission was recognised and not applied again. */
  onDuplicate?: () => void;
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
 * Sessions, subscriptions, retained and outgoing messages stay in memory (not durable).
 */
export class DurablePersistence extends MemoryPersistence {
  readonly #deps: DurablePersistenceDeps;

  constructor(deps: DurablePersistenceDeps, opts: object = {}) {
    super(opts);
    this.#deps = deps;
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    for (const [c, ids] of this.#deps.durable.incoming) {
      for (const [m, topic] of ids) {
        await super.incomingStorePacket({ id: c }, {
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
          super.incomingStorePacket(client, { ...packet, cmd: 'publish' }).then(
            () => reject(err),
            () => reject(err),
          );
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
}
