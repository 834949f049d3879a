import { createRequire } from 'node:module';
import type { Client } from 'aedes';

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
 * aedes-persistence's in-memory store with a faster incoming QoS 2 store: a Map per client
 * keyed by packet id (the base class uses an object with numeric keys and `delete`), and no
 * Error allocated per "not found". Everything else is aedes-persistence's.
 */
export class MemoryPersistence extends AsyncMemory {
  readonly #incoming = new Map<string, Map<number, StoredPacket>>();

  constructor(opts: object = {}) {
    super(opts);
  }

  override incomingStorePacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void> {
    let ids = this.#incoming.get(client.id);
    if (ids === undefined) this.#incoming.set(client.id, (ids = new Map<number, StoredPacket>()));
    ids.set(
      packet.messageId ?? 0,
      new StoredPacket(packet as IncomingPacket & Record<string, unknown>),
    );
    return Promise.resolve();
  }

  override incomingGetPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<unknown> {
    const found = this.#incoming.get(client.id)?.get(packet.messageId ?? 0);
    return found === undefined ? Promise.reject(NO_SUCH_PACKET) : Promise.resolve(found);
  }

  override incomingDelPacket(client: Pick<Client, 'id'>, packet: IncomingPacket): Promise<void> {
    const ids = this.#incoming.get(client.id);
    if (ids === undefined || !ids.delete(packet.messageId ?? 0))
      return Promise.reject(NO_SUCH_PACKET);
    if (ids.size === 0) this.#incoming.delete(client.id);
    return Promise.resolve();
  }

  override cleanIncoming(client: Pick<Client, 'id'>): Promise<void> {
    this.#incoming.delete(client.id);
    return Promise.resolve();
  }
}
