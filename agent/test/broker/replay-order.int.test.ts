import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { Aedes, type Client } from 'aedes';
import { MemoryPersistence } from '../../src/broker/memory-persistence.js';
import type { OutgoingPacket } from '../../src/broker/outgoing-store.js';

/** A gate the test opens. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/**
 * A bound on a wait that only a failure makes long (the patch missing: a message never comes),
 * so that the test fails with what it waited for instead of hanging.
 */
function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

const payloadOf = (p: object): string => {
  const payload = (p as { payload?: unknown }).payload;
  return Buffer.isBuffer(payload) ? payload.toString() : '';
};

/**
 * The persistence the test steers: the reconnect's sessionPresent step waits (the subscriptions
 * are restored, CONNACK not yet sent), and the replay's update of one message waits until the
 * client acknowledged another.
 */
class Steered extends MemoryPersistence {
  atSessionPresent: { reached: () => void; wait: Promise<void> } | undefined;
  holdUpdateOf?: { payload: string; wait: Promise<void> };
  onCleared?: (payload: string) => void;

  override async sessionPresent(client: Pick<Client, 'id'>): Promise<boolean> {
    const present = await super.sessionPresent(client);
    const at = this.atSessionPresent;
    if (at !== undefined) {
      this.atSessionPresent = undefined;
      at.reached();
      await at.wait;
    }
    return present;
  }

  override async outgoingUpdate(client: Pick<Client, 'id'>, packet: OutgoingPacket): Promise<void> {
    const hold = this.holdUpdateOf;
    if (hold !== undefined && payloadOf(packet) === hold.payload) await hold.wait;
    return super.outgoingUpdate(client, packet);
  }

  override async outgoingClearMessageId(
    client: Pick<Client, 'id'>,
    packet: Pick<OutgoingPacket, 'messageId'> | number,
  ): Promise<OutgoingPacket | undefined> {
    const found = await super.outgoingClearMessageId(client, packet);
    if (found !== undefined) this.onCleared?.(payloadOf(found));
    return found;
  }
}

// Patches `replay-first` and `queued-once` (patches/aedes+1.2.0.patch), at the two edges of a
// persistent session's queue replay. (1) Live deliveries are held from the moment the
// subscriptions are restored: m3 and m4, published while the reconnect waits in a later step
// (before CONNACK), used to go out at once, ahead of the queued m1 and m2 [MQTT-4.6.0-6].
// (2) A held delivery of a message that the replay sent and the client acknowledged before the
// replay ended (m3: the replay's update of m4 waits for that PUBACK) must be skipped: the
// acknowledgement used to forget it, so the held delivery tried to number an entry already
// cleared ('no such packet') and aedes closed the subscriber's connection.
test('patches replay-first, queued-once: a reconnecting persistent session gets its queue first, in order, once, and keeps its connection', async (t) => {
  const persistence = new Steered();
  const aedes = await Aedes.createBroker({ persistence: persistence as never });
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    aedes.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    // The connections first: a failing run may leave one half-connected, which neither
    // aedes.close nor server.close would end.
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => aedes.close(() => server.close(() => r())));
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const opts = {
    clientId: 'replay-sub',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  } as const;
  const first = await mqtt.connectAsync(url, opts);
  await first.subscribeAsync('t', { qos: 1 });
  await first.endAsync();
  const publish = (payload: string) =>
    new Promise<void>((resolve, reject) =>
      aedes.publish(
        {
          cmd: 'publish',
          topic: 't',
          payload: Buffer.from(payload),
          qos: 1,
          retain: false,
          dup: false,
        },
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
  await publish('m1');
  await publish('m2');

  const atSessionPresent = gate();
  const released = gate();
  persistence.atSessionPresent = { reached: atSessionPresent.open, wait: released.wait };
  const m3Acked = gate();
  persistence.holdUpdateOf = { payload: 'm4', wait: m3Acked.wait };
  persistence.onCleared = (p) => {
    if (p === 'm3') m3Acked.open();
  };

  const sub = mqtt.connect(url, opts);
  const connected = new Promise<void>((r) => sub.once('connect', () => r()));
  t.after(() => void sub.end(true));
  const got: string[] = [];
  const m5 = gate();
  sub.on('message', (_t, p) => {
    got.push(p.toString());
    if (p.toString() === 'm5') m5.open();
  });
  const closed = new Promise<string>((r) => sub.once('close', () => r('closed')));
  await within(atSessionPresent.wait, 'the reconnect reaching sessionPresent');
  // m3 and m4 reach the subscriber's listeners (restored) while the reconnect still waits;
  // their publish flows end only with the delivery when it is not held, so not awaited here.
  const emitted = gate();
  const mq = (aedes as unknown as { mq: { emit: (p: object, cb?: () => void) => unknown } }).mq;
  const emit = mq.emit.bind(mq);
  mq.emit = (p, cb) => {
    const r = emit(p, cb);
    if (payloadOf(p) === 'm4') emitted.open();
    return r;
  };
  const published = Promise.all([publish('m3'), publish('m4')]);
  await within(emitted.wait, 'm4 emitted');
  released.open();
  await within(published, 'm3 and m4 published');
  await within(connected, 'CONNACK');
  // m3 and m4 are in the queue (replayed) and were held: once each, after m1 and m2.
  await within(m3Acked.wait, `m3 acknowledged (got ${got.join(' ')})`);
  await publish('m5');
  const outcome = await within(
    Promise.race([m5.wait.then(() => 'm5'), closed]),
    `m5 (got ${got.join(' ')})`,
  );
  assert.equal(outcome, 'm5', `the subscriber's connection was closed; got ${got.join(' ')}`);
  assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5']);
});
