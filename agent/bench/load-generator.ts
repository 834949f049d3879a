/**
 * QoS 2 load generator for the ingest-workers benchmark (workers.bench.ts), one child process
 * holding every connection: MQTT 3.1.1 over raw sockets, the full QoS 2 flow ([MQTT-4.3.3]:
 * PUBLISH -> PUBREC -> PUBREL -> PUBCOMP) with `window` messages in flight per connection, and
 * nothing done per message that could be done once:
 * - every PUBLISH and PUBREL is encoded at start: a ring of 2 x window packet ids per connection,
 *   each id with its own PUBLISH (topic and payload fixed per id) and PUBREL buffer; a message
 *   is a `write` of a buffer that already exists;
 * - acknowledgements are parsed by a minimal reader: the broker sends only CONNACK (4 bytes),
 *   PUBREC and PUBCOMP (4 bytes each), so a chunk is walked 4 bytes at a time (anything else
 *   is a protocol error and stops the run);
 * - writes of one socket read are corked into one send.
 * Its own CPU per message is reported next to the agent's, so that on a 2-core machine the
 * figure says how much of a core the generator took from the agent.
 *
 * IPC: child -> {ready} once every CONNACK arrived; parent -> {go, seconds}; child -> {done,
 * completed, cpuUs, elapsedMs} after `seconds` (in-flight messages are completed first).
 */
import { connect, type Socket } from 'node:net';

interface Args {
  port: number;
  connections: number;
  window: number;
  /** Sensor keys per connection (each connection writes its own). */
  keys: number;
  /** A prefix of client ids (a run's ids are its own). */
  idPrefix: string;
  clean: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function frame(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...remainingLength(body.length)]), body]);
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function connectPacket(clientId: string, clean: boolean): Buffer {
  // "MQTT", level 4 (3.1.1), flags (clean session or not), keep alive 0.
  const head = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, clean ? 0x02 : 0x00, 0, 0]);
  return frame(0x10, Buffer.concat([head, str(clientId)]));
}

function publishPacket(topic: string, id: number, payload: string): Buffer {
  return frame(
    0x34,
    Buffer.concat([str(topic), Buffer.from([id >> 8, id & 0xff]), Buffer.from(payload)]),
  );
}

/** One connection: its pre-encoded ring and its state. */
class Conn {
  readonly sock: Socket;
  readonly publish: Buffer[] = [];
  readonly pubrel: Buffer[] = [];
  /** Next ring slot to send (slot i carries packet id i + 1). */
  next = 0;
  inFlight = 0;
  completed = 0;
  connected = false;
  /** This connection has nothing in flight since sending stopped (once per cycle). */
  idle = false;
  #rest: Buffer | undefined;

  constructor(
    readonly index: number,
    private readonly run: Runner,
  ) {
    const ring = 2 * args.window;
    for (let i = 0; i < ring; i++) {
      const id = i + 1;
      const topic = `sensors/load${index}/s${i % args.keys}`;
      this.publish.push(publishPacket(topic, id, `{"v":${(i % 50) / 2},"u":"Cel"}`));
      this.pubrel.push(Buffer.from([0x62, 0x02, id >> 8, id & 0xff]));
    }
    this.sock = connect({ host: '127.0.0.1', port: args.port, noDelay: true });
    this.sock.on('connect', () =>
      this.sock.write(connectPacket(`${args.idPrefix}-${index}`, args.clean)),
    );
    this.sock.on('data', (chunk: Buffer) => this.#data(chunk));
    this.sock.on('error', (err) => run.fail(`connection ${index}: ${err.message}`));
    this.sock.on('close', () => {
      if (!run.finished) run.fail(`connection ${index} closed by the broker`);
    });
  }

  fill(): void {
    while (this.inFlight < args.window && this.run.sending) {
      this.sock.write(this.publish[this.next] as Buffer);
      this.next = (this.next + 1) % this.publish.length;
      this.inFlight++;
    }
  }

  #data(chunk: Buffer): void {
    let b = chunk;
    if (this.#rest !== undefined) {
      b = Buffer.concat([this.#rest, chunk]);
      this.#rest = undefined;
    }
    const end = b.length - (b.length % 4);
    this.sock.cork();
    for (let o = 0; o < end; o += 4) {
      const type = b[o] as number;
      const id = ((b[o + 2] as number) << 8) | (b[o + 3] as number);
      if (type === 0x50)
        this.sock.write(this.pubrel[id - 1] as Buffer); // PUBREC
      else if (type === 0x70) {
        // PUBCOMP
        this.inFlight--;
        this.completed++;
        this.run.completed++;
      } else if (type === 0x20) {
        if (b[o + 3] !== 0) this.run.fail(`CONNACK ${b[o + 3]}`);
        this.connected = true;
        this.run.connected();
      } else this.run.fail(`unexpected packet 0x${type.toString(16)} (expected only 4-byte acks)`);
    }
    if (end < b.length) this.#rest = b.subarray(end);
    this.fill();
    this.sock.uncork();
    if (!this.run.sending && this.inFlight === 0 && !this.idle) {
      this.idle = true;
      this.run.drained();
    }
  }
}

class Runner {
  readonly conns: Conn[];
  completed = 0;
  sending = false;
  finished = false;
  #ready = 0;
  #cpu0 = process.cpuUsage();
  #t0 = 0;
  #counted = 0;
  #done = 0;

  constructor() {
    this.conns = Array.from({ length: args.connections }, (_, i) => new Conn(i, this));
  }

  connected(): void {
    if (++this.#ready === args.connections) process.send?.({ ready: true });
  }

  /** One measured cycle: send for `seconds`, report, then drain (cycles may repeat). */
  go(seconds: number): void {
    this.#done = 0;
    this.completed = 0;
    for (const c of this.conns) c.idle = false;
    this.sending = true;
    this.#cpu0 = process.cpuUsage();
    this.#t0 = performance.now();
    for (const c of this.conns) {
      c.sock.cork();
      c.fill();
      c.sock.uncork();
    }
    setTimeout(() => {
      // Counted: what completed in the interval; the rest drains without being counted.
      this.#counted = this.completed;
      const cpu = process.cpuUsage(this.#cpu0);
      const elapsedMs = performance.now() - this.#t0;
      this.sending = false;
      process.send?.({
        done: true,
        completed: this.#counted,
        cpuUs: cpu.user + cpu.system,
        elapsedMs,
      });
      for (const c of this.conns)
        if (c.inFlight === 0 && !c.idle) {
          c.idle = true;
          this.drained();
        }
    }, seconds * 1000);
  }

  drained(): void {
    if (++this.#done === args.connections) process.send?.({ drained: true });
  }

  end(): void {
    this.finished = true;
    for (const c of this.conns) c.sock.end();
  }

  fail(why: string): void {
    if (this.finished) return;
    process.stderr.write(`load generator: ${why}\n`);
    process.exit(1);
  }
}

const runner = new Runner();
process.on('message', (m: { go?: boolean; seconds?: number; end?: boolean }) => {
  if (m.go === true) runner.go(m.seconds ?? 10);
  if (m.end === true) runner.end();
});
process.on('disconnect', () => process.exit(0));
