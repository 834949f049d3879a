import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Aedes, type Client } from 'aedes';
import { MqttClient } from 'mqtt';
import { aedesDir } from './aedes-patches.js';
import { guardPacketSize } from './connection-guards.js';
import { allocateIdsSkippingInFlight } from './packet-ids.js';

/**
 * The private internals of dependencies that the agent uses (each version is pinned exactly
 * in agent/package.json). Each entry names the code that relies on it, the upstream hook
 * that would make it unnecessary, and a check of the internal's shape *and* behaviour on the
 * real installed package. `agent/test/broker/internals.test.ts` runs every check, so a new
 * version that renames or changes one fails the build naming the patch, instead of silently
 * turning a guard off or losing messages. docs/ingest.md "Patches to aedes and other
 * dependencies' internals" describes each for upstream.
 */
export interface InternalContract {
  /** Stable name, used in failures and docs. */
  name: string;
  /** Our code that relies on the internal. */
  where: string;
  /** The internal, as `package: member`. */
  internal: string;
  /** What upstream could offer instead. */
  upstreamHook: string;
  /** Throws an Error whose message says what changed. */
  check(): Promise<void> | void;
}

const require = createRequire(import.meta.url);

/** A socket-shaped stream for aedes.handle(): nothing is read or written. */
function idleConn(): Duplex {
  return new Duplex({ read() {}, write: (_c, _e, cb: () => void) => cb() });
}

async function withClient<T>(fn: (client: Client, aedes: Aedes) => Promise<T> | T): Promise<T> {
  const aedes = await Aedes.createBroker();
  const conn = idleConn();
  const client = aedes.handle(conn);
  try {
    return await fn(client, aedes);
  } finally {
    conn.destroy();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }
}

function fail(contract: string, what: string): never {
  throw new Error(`internal contract ${contract} broken: ${what}`);
}

export const INTERNAL_CONTRACTS: readonly InternalContract[] = [
  {
    name: 'packet-size-guard',
    where: 'agent/src/broker/connection-guards.ts guardPacketSize',
    internal:
      'mqtt-packet: Parser#_parseLength, Parser#packet.length, Parser#_emitError; aedes: Client#_parser',
    upstreamHook:
      'a maxPacketSize option in mqtt-packet parser() and aedes (checked on the fixed header)',
    async check() {
      await withClient((client) => {
        let announced = 0;
        if (!guardPacketSize(client, 1000, (n) => (announced = n)))
          fail(this.name, 'aedes Client#_parser._parseLength is not a function');
        const parser = (client as unknown as { _parser: { parse(b: Buffer): void } })._parser;
        // PUBLISH whose remaining length is 16383 (0xff 0x7f): refused on the header alone.
        parser.parse(Buffer.from([0x30, 0xff, 0x7f]));
        if (announced !== 16383)
          fail(this.name, `a 16383-byte header was not refused (saw ${announced})`);
      });
    },
  },
  {
    name: 'numbered-qos2',
    where: 'agent/src/broker/qos2-forwarding.ts consumeQos2BeforeForwarding',
    internal:
      'aedes: Aedes#publish(packet, client, done), Aedes#counter; aedes-packet keeps a preset brokerCounter',
    upstreamHook:
      'a hook between the PUBREC decision and forwarding (a "beforeForward" for QoS 2) that lets the persistence number and record a message before it is queued or delivered',
    async check() {
      const aedes = await Aedes.createBroker();
      try {
        const a = aedes as unknown as { counter: unknown; publish: unknown; id: unknown };
        if (
          typeof a.publish !== 'function' ||
          typeof a.counter !== 'number' ||
          typeof a.id !== 'string'
        )
          fail(this.name, 'Aedes#publish, #counter or #id changed shape');
        const seen: { brokerId?: string; brokerCounter?: number }[] = [];
        await new Promise<void>((resolve) =>
          aedes.subscribe(
            'contract/n',
            (p: object, cb: () => void) => {
              seen.push(p);
              cb();
            },
            resolve,
          ),
        );
        const publish = (p: object) =>
          new Promise<void>((resolve, reject) =>
            aedes.publish(p as never, (err?: Error) => (err ? reject(err) : resolve())),
          );
        const before = a.counter;
        await publish({
          cmd: 'publish',
          topic: 'contract/n',
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
          dup: false,
          brokerId: a.id,
          brokerCounter: 4242,
        });
        await publish({
          cmd: 'publish',
          topic: 'contract/n',
          payload: Buffer.from('y'),
          qos: 0,
          retain: false,
          dup: false,
        });
        if (seen[0]?.brokerCounter !== 4242) fail(this.name, 'a preset brokerCounter was not kept');
        if (a.counter !== before + 1 || seen[1]?.brokerCounter !== before + 1)
          fail(this.name, 'Aedes#counter is not what numbers a new message');
      } finally {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
      }
    },
  },
  {
    name: 'packet-ids',
    where: 'agent/src/broker/packet-ids.ts allocateIdsSkippingInFlight',
    internal: 'aedes: Client#_nextId read and incremented by lib/qos-packet.js',
    upstreamHook:
      'a persistence method (or client option) that allocates outgoing packet ids, so ids in flight in a persistent session are never reused',
    async check() {
      const url = new URL(`file://${aedesDir()}/lib/qos-packet.js`);
      const { default: QoSPacket } = (await import(url.href)) as {
        default: new (p: object, c: Client) => { messageId: number };
      };
      await withClient((client) => {
        const c = client as unknown as { id: string | null; _nextId: unknown };
        if (typeof c._nextId !== 'number') fail(this.name, 'Client#_nextId is not a number');
        c.id = 'contract';
        c._nextId = 10;
        allocateIdsSkippingInFlight(client, (_id, m) => m === 10 || m === 11);
        const ids = [1, 2].map(
          () =>
            new QoSPacket({ cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 1 }, client)
              .messageId,
        );
        if (ids[0] !== 12 || ids[1] !== 13)
          fail(
            this.name,
            `QoSPacket took ids ${ids.join(',')}, not 12,13 (in-flight 10 and 11 skipped)`,
          );
      });
    },
  },
  {
    name: 'pubrec-pipeline',
    where: 'agent/src/external/external-subscriber.ts pipelinePubrec',
    internal:
      "mqtt: MqttClient#_sendPacket, which the QoS 2 publish handler calls with { cmd: 'pubrec' }",
    upstreamHook:
      'an async incomingStore.put whose completion gates only the PUBREC, not the reading of the next packet',
    check() {
      const mqttMain = require.resolve('mqtt');
      const proto = MqttClient.prototype as unknown as Record<string, unknown>;
      if (typeof proto._sendPacket !== 'function')
        fail(this.name, 'MqttClient#_sendPacket is not a function');
      const handler = readFileSync(
        fileURLToPath(new URL('./lib/handlers/publish.js', `file://${mqttMain}`)),
        'utf8',
      );
      if (!/_sendPacket'?\]?\(\{ cmd: 'pubrec', messageId \}/.test(handler))
        fail(this.name, "mqtt's publish handler no longer sends PUBREC through _sendPacket");
    },
  },
];

/** Runs every contract; resolves with the failures (empty: all hold). */
export async function brokenInternals(
  contracts: readonly InternalContract[] = INTERNAL_CONTRACTS,
): Promise<string[]> {
  const broken: string[] = [];
  for (const c of contracts) {
    try {
      await c.check();
    } catch (err) {
      broken.push(`${c.name} (${c.where}): ${(err as Error).message}`);
    }
  }
  return broken;
}
