import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { ClusterEmitter, type WirePacket } from '../../../src/broker/cluster/cluster-emitter.js';

const pkt = (topic: string, n: number): WirePacket => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(String(n)),
  qos: 1,
  retain: false,
  dup: false,
  brokerId: 'w0',
  brokerCounter: n,
});

const settle = () => new Promise((r) => setTimeout(r, 20));

test('a message reaches the other worker only when a subscriber there matches, in order', async () => {
  const { port1, port2 } = new MessageChannel();
  const a = new ClusterEmitter([port1], { concurrency: 100 });
  const b = new ClusterEmitter([port2], { concurrency: 100 });
  try {
    const got: string[] = [];
    let fifty!: () => void;
    const all = new Promise<void>((r) => (fifty = r));
    // Complete once `a` acknowledged the filter (no sleep: see the test below).
    await new Promise<void>((subscribed) =>
      b.on(
        'sensors/+/t',
        (p, cb) => {
          const payload = (p as WirePacket).payload;
          assert.ok(Buffer.isBuffer(payload), 'payload arrives as a Buffer');
          got.push(payload.toString());
          if (got.length === 50) fifty();
          cb();
        },
        subscribed,
      ),
    );
    for (let n = 1; n <= 50; n++) a.emit(pkt('sensors/d/t', n));
    a.emit(pkt('other/topic', 99));
    await all;
    // The port keeps order: anything wrongly sent after message 50 is here after one more turn.
    await settle();
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => String(i + 1)),
    );
    const local: string[] = [];
    a.on('other/#', (p, cb) => {
      local.push((p as WirePacket).topic);
      cb();
    });
    a.emit(pkt('other/topic', 100));
    await settle();
    assert.deepEqual(local, ['other/topic'], 'local subscribers get it from the local emitter');
  } finally {
    await new Promise<void>((r) => a.close(r));
    await new Promise<void>((r) => b.close(r));
    port1.close();
    port2.close();
  }
});

/** One end of a link whose messages wait until the test delivers them (a slow peer). */
class HeldLink {
  readonly held: unknown[] = [];
  #listeners: ((msg: unknown) => void)[] = [];
  other!: HeldLink;
  postMessage(msg: unknown): void {
    this.other.held.push(msg);
  }
  on(_event: 'message', fn: (msg: unknown) => void): this {
    this.#listeners.push(fn);
    return this;
  }
  /** Delivers what the other end sent so far. */
  deliver(): number {
    const msgs = this.held.splice(0);
    for (const m of msgs) for (const fn of this.#listeners) fn(m);
    return msgs.length;
  }
}

function heldPair(): [HeldLink, HeldLink] {
  const a = new HeldLink();
  const b = new HeldLink();
  a.other = b;
  b.other = a;
  return [a, b];
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

test('a subscription completes only once every peer forwards its filter: a peer message right after reaches it', async () => {
  const [la, lb] = heldPair();
  const a = new ClusterEmitter([la], { concurrency: 100 });
  const b = new ClusterEmitter([lb], { concurrency: 100 });
  try {
    const got: string[] = [];
    let subscribed = false;
    b.on(
      'q/#',
      (p, cb) => {
        got.push((p as WirePacket).payload.toString());
        cb();
      },
      () => (subscribed = true),
    );
    await turns(5);
    // Without the acknowledgement, aedes would send SUBACK (or replay the queue) here while
    // the peer still drops every message on the filter.
    assert.equal(subscribed, false, 'complete before the peer knows the filter');
    a.emit(pkt('q/1', 1));
    assert.equal(la.deliver(), 1, 'the peer gets the filter');
    await turns(5);
    assert.equal(subscribed, false, 'complete before the peer acknowledged');
    // Only the ack: message 1 was emitted before the peer knew the filter (not forwarded; a
    // persistent subscriber has it from its queue, which the replay reads after completion).
    assert.equal(lb.deliver(), 1, 'the ack');
    assert.deepEqual(got, []);
    await turns(2);
    assert.equal(subscribed, true, 'complete once the peer acknowledged');
    // A second subscriber of the same filter on b: no new `sub`, and complete at once.
    let second = false;
    b.on(
      'q/#',
      (_p, cb) => cb(),
      () => (second = true),
    );
    await turns(2);
    assert.equal(second, true);
    assert.equal(la.held.length, 0);
    a.emit(pkt('q/2', 2));
    lb.deliver();
    await turns(2);
    assert.deepEqual(got, ['2'], 'a message emitted after the acknowledgement is forwarded');
  } finally {
    await new Promise<void>((r) => a.close(r));
    await new Promise<void>((r) => b.close(r));
  }
});

test('a subscription waiting for a peer completes when the emitter closes', async () => {
  const [la] = heldPair();
  const a = new ClusterEmitter([la], { concurrency: 100 });
  let done = false;
  a.on(
    'x/#',
    (_p, cb) => cb(),
    () => (done = true),
  );
  await turns(3);
  assert.equal(done, false);
  await new Promise<void>((r) => a.close(r));
  assert.equal(done, true);
});
