/**
 * Benchmark load generator, run as a child process (never in the broker's process): a minimal
 * MQTT 3.1.1 QoS 2 publisher over a raw socket. It runs the full QoS 2 flow (PUBLISH ->
 * PUBREC -> PUBREL -> PUBCOMP, [MQTT-4.3.3]) with `window` messages in flight, but without
 * mqtt.js's per-message cost, so that the broker under test, not the publisher, is the
 * bottleneck on a 2-core box. Payload: `{"v":<send time, µs of the monotonic clock>,"u":"us"}`
 * (CLOCK_MONOTONIC is shared by every process of the machine, so the broker side computes
 * publish->cache latency from it).
 *
 * Two modes:
 * - closed loop (no `rate`): the next message goes out as soon as one of the `window` slots
 *   frees up; the payload carries the actual send time.
 * - paced (`rate` msg/s): an open-loop schedule, message i is due at start + (i + phase) / rate.
 *   The payload carries the **scheduled** time, so the latency measured at the broker includes
 *   any queueing (a full window, a late timer, a descheduled publisher) instead of hiding it
 *   (no coordinated omission). How late the actual sends were is reported as `lagP99` (waits
 *   for a free window slot included), how late this process's own wake-up timers fired as
 *   `timerLateP99` (the share of the latency that is the load generator's, not the broker's).
 *
 * Protocol with the parent (IPC): child sends {ready} after CONNACK; parent sends {go, atUs}
 * (common start time on the monotonic clock); child sends {done, cpuUs, lagP99?,
 * timerLateP99?} after the last
 * PUBCOMP.
 */
import { connect, type Socket } from 'node:net';

interface Args {
  host: string;
  port: number;
  id: string;
  count: number;
  window: number;
  /** Distinct sensor keys this publisher cycles through. */
  keys: number;
  /** First key index (so that publishers write disjoint or overlapping key ranges). */
  keyBase: number;
  /** Paced mode: this publisher's msg/s. */
  rate: number | undefined;
  /** Paced mode: offset of this publisher's schedule, in periods (0..1). */
  phase: number;
}

function parse(argv: string[]): Args {
  const o = JSON.parse(argv[2] ?? '{}') as Partial<Args>;
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 1883,
    id: o.id ?? `pub-${process.pid}`,
    count: o.count ?? 1000,
    window: o.window ?? 100,
    keys: o.keys ?? 100,
    keyBase: o.keyBase ?? 0,
    rate: o.rate,
    phase: o.phase ?? 0,
  };
}

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

function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]), // "MQTT", 3.1.1, clean, keepalive 0
    Buffer.from([id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

function publishPacket(topic: string, id: number, payload: string): Buffer {
  const t = Buffer.from(topic);
  const p = Buffer.from(payload);
  const len = 2 + t.length + 2 + p.length;
  const rl = remainingLength(len);
  const out = Buffer.allocUnsafe(1 + rl.length + len);
  let o = 0;
  out[o++] = 0x34; // PUBLISH, QoS 2
  for (const b of rl) out[o++] = b;
  out.writeUInt16BE(t.length, o);
  o += 2;
  o += t.copy(out, o);
  out.writeUInt16BE(id, o);
  o += 2;
  p.copy(out, o);
  return out;
}

function pubrel(id: number): Buffer {
  return Buffer.from([0x62, 0x02, id >> 8, id & 0xff]);
}

function topicOf(k: number): string {
  return `sensors/d${Math.floor(k / 100)}/s${k % 100}`;
}

const args = parse(process.argv);
const sock: Socket = connect({ host: args.host, port: args.port, noDelay: true });
let buf: Buffer = Buffer.alloc(0);
let sent = 0;
let completed = 0;
let nextId = 1;
let started = false;
let cpu0 = process.cpuUsage();
let startUs = 0;
/** Paced mode: actual - scheduled send time of every message, µs. */
const lag = args.rate !== undefined ? new Float64Array(args.count) : undefined;
let timer: NodeJS.Timeout | undefined;
/** Paced mode: how late each wake-up timer fired, µs (this process's own scheduling delay). */
const timerLate: number[] = [];

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const dueUs = (i: number) => startUs + ((i + args.phase) * 1e6) / (args.rate as number);

function send(v: number): void {
  const k = args.keyBase + (sent % args.keys);
  sock.write(publishPacket(topicOf(k), nextId, `{"v":${v},"u":"us"}`));
  nextId = nextId === 65535 ? 1 : nextId + 1;
  sent++;
}

function pump(): void {
  if (!started) return;
  sock.cork();
  if (lag === undefined) {
    while (sent < args.count && sent - completed < args.window) send(nowUs());
  } else {
    const now = nowUs();
    while (sent < args.count && sent - completed < args.window && dueUs(sent) <= now) {
      lag[sent] = now - dueUs(sent);
      send(Math.round(dueUs(sent)));
    }
    // Wake up for the next due message (a full window is pumped again by its PUBCOMP).
    if (timer === undefined && sent < args.count && sent - completed < args.window) {
      const at = dueUs(sent);
      timer = setTimeout(
        () => {
          timer = undefined;
          timerLate.push(nowUs() - at);
          pump();
        },
        Math.max(0, (at - now) / 1000),
      );
    }
  }
  sock.uncork();
}

const p99Ms = (xs: ArrayLike<number> & { sort(): unknown }) => {
  xs.sort();
  return xs.length === 0
    ? 0
    : (xs[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))] ?? 0) / 1000;
};

function onPacket(type: number, body: Buffer): void {
  if (type === 2) {
    if (body[1] !== 0) throw new Error(`CONNACK refused: ${body[1]}`);
    process.send?.({ ready: true });
  } else if (type === 5) {
    sock.write(pubrel(body.readUInt16BE(0)));
  } else if (type === 7) {
    completed++;
    if (completed === args.count) {
      const c = process.cpuUsage(cpu0);
      process.send?.({
        done: true,
        cpuUs: c.user + c.system,
        ...(lag !== undefined
          ? { lagP99: p99Ms(lag), timerLateP99: p99Ms(new Float64Array(timerLate)) }
          : {}),
      });
      sock.end();
    } else pump();
  }
}

sock.on('data', (chunk: Buffer) => {
  buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
  let off = 0;
  sock.cork();
  for (;;) {
    if (off + 2 > buf.length) break;
    let len = 0;
    let mul = 1;
    let i = off + 1;
    let ok = false;
    while (i < buf.length && i < off + 5) {
      const b = buf[i++] as number;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        ok = true;
        break;
      }
    }
    if (!ok || i + len > buf.length) break;
    onPacket((buf[off] as number) >> 4, buf.subarray(i, i + len));
    off = i + len;
  }
  sock.uncork();
  buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
});
sock.on('error', (err) => {
  process.stderr.write(`publisher ${args.id}: ${err.message}\n`);
  process.exit(1);
});
sock.on('connect', () => sock.write(connectPacket(args.id)));
process.on('message', (m: { go?: boolean; atUs?: number }) => {
  if (m.go !== true) return;
  startUs = m.atUs ?? nowUs();
  // Every publisher starts at the common time (its own IPC delay does not shift the schedule).
  setTimeout(
    () => {
      started = true;
      cpu0 = process.cpuUsage();
      pump();
    },
    Math.max(0, (startUs - nowUs()) / 1000),
  );
});
process.on('disconnect', () => process.exit(0));
