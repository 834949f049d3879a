import { createRequire } from 'node:module';
import type { Client } from 'aedes';
import type { DurableLog } from '../wal/durable-log.js';

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
}

const require = createRequire(import.meta.url);
// The package has no ESM entry for its async class; its types live under types/.
const AsyncMemory = require('aedes-persistence/asyncPersistence.js') as new (
  opts?: object,
) => MemoryPersistenceBase;

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
export class DurablePersistence extends AsyncMemory {
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

  override async incomingGetPacket(
    client: Pick<Client, 'id'>,
    packet: IncomingPacket,
  ): Promise<unknown> {
    const found = await super.incomingGetPacket(client, packet);
    if (packet.cmd === 'publish') this.#deps.onDuplicate?.();
    return found;
  }

  override async incomingDelPacket(
    client: Pick<Client, 'id'>,
    packet: IncomingPacket,
  ): Promise<void> {
    await super.incomingDelPacket(client, packet);
    const m = packet.messageId;
    if (m === undefined) return;
    try {
      await this.#deps.durable.append({ t: 'r', c: client.id, m });
    } catch (err) {
      // aedes sends PUBCOMP even when this rejects, so cut the connection first: the client
      // keeps the PUBREL and retransmits it on reconnect; memory goes back to match the disk.
      (client as Partial<Pick<Client, 'conn'>>).conn?.destroy();
      await super.incomingStorePacket(client, { ...packet, cmd: 'publish' });
      throw err;
    }
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
