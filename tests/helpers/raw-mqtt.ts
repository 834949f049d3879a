import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
// mqtt-packet is the codec of both mqtt.js and aedes (a dependency of each, hoisted).
import {
  generate,
  parser,
  type IConnackPacket,
  type IConnectPacket,
  type ISubackPacket,
  type Packet,
} from 'mqtt-packet';

/**
 * An MQTT 3.1.1 client over a raw TCP socket that does nothing on its own: it sends exactly the
 * packets a test gives it (or raw bytes) and records every packet the server sends, with the
 * flags a client library hides (DUP, RETAIN, packet ids, CONNACK codes, session present, the
 * order of acknowledgements). Conformance tests use it to see the server's behaviour on the
 * wire.
 *
 * Negative checks ("the server sends nothing else") use {@link RawMqtt.barrier}: a PINGREQ
 * whose PINGRESP comes after everything the server wrote before reading it.
 */
export class RawMqtt {
  /** Every packet received, in order. */
  readonly received: Packet[] = [];
  readonly #sock: Socket;
  #read = 0;
  #closed = false;
  #waiters = new Set<() => void>();
  /** Why the parser gave up, if it did (a malformed packet from the server). */
  parseError: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    const p = parser({ protocolVersion: 4 });
    p.on('packet', (pkt: Packet) => {
      this.received.push(pkt);
      this.#wake();
    });
    p.on('error', (err: Error) => {
      this.parseError = err;
      sock.destroy();
    });
    sock.on('data', (d: Buffer) => p.parse(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawMqtt> {
    const sock = connect(port, host);
    sock.setNoDelay(true);
    await Promise.race([
      once(sock, 'connect'),
      once(sock, 'error').then(([e]) => Promise.reject(e as Error)),
    ]);
    return new RawMqtt(sock);
  }

  /** Opens a connection and sends CONNECT (protocol level 4); resolves with CONNACK. */
  static async connect(
    port: number,
    opts: Partial<IConnectPacket> & { clientId: string },
  ): Promise<{ c: RawMqtt; connack: IConnackPacket }> {
    const c = await RawMqtt.open(port);
    c.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 0,
      ...opts,
    });
    const connack = (await c.next('connack')) as IConnackPacket;
    return { c, connack };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a packet (encoded by mqtt-packet) or raw bytes. */
  send(p: Packet | Buffer): void {
    if (this.#closed) return;
    this.#sock.write(Buffer.isBuffer(p) ? p : generate(p));
  }

  /** Sends a PUBLISH; `id` is the packet id for QoS 1/2. */
  publish(
    topic: string,
    payload: string,
    qos: 0 | 1 | 2,
    opts: { id?: number; retain?: boolean; dup?: boolean } = {},
  ): void {
    this.send({
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos,
      retain: opts.retain ?? false,
      dup: opts.dup ?? false,
      ...(qos > 0 ? { messageId: opts.id ?? 1 } : {}),
    });
  }

  /** SUBSCRIBE (one packet, several filters); resolves with SUBACK. */
  async subscribe(
    subs: { topic: string; qos: 0 | 1 | 2 }[],
    messageId = 1,
  ): Promise<ISubackPacket> {
    this.send({ cmd: 'subscribe', messageId, subscriptions: subs });
    return (await this.next('suback')) as ISubackPacket;
  }

  /**
   * The next packet not yet taken (optionally of a command, skipping others only if `skip`);
   * rejects when the connection closes first.
   */
  async next(cmd?: Packet['cmd'], opts: { skip?: boolean } = {}): Promise<Packet> {
    for (;;) {
      while (this.#read < this.received.length) {
        const p = this.received[this.#read++] as Packet;
        if (cmd === undefined || p.cmd === cmd) return p;
        if (!opts.skip) throw new Error(`expected ${cmd}, got ${describe(p)}`);
      }
      if (this.#closed) throw new Error(`connection closed while waiting for ${cmd ?? 'a packet'}`);
      await new Promise<void>((r) => this.#waiters.add(r));
    }
  }

  /** Packets received and not yet taken by {@link next}. */
  pending(): Packet[] {
    return this.received.slice(this.#read);
  }

  /** Takes every pending packet. */
  drain(): Packet[] {
    const p = this.pending();
    this.#read = this.received.length;
    return p;
  }

  /**
   * PINGREQ, then waits for PINGRESP; returns the packets that came before it (not taken by
   * {@link next}). The server answers packets of a connection in order, so anything it sent
   * in response to earlier packets is in the result.
   */
  async barrier(): Promise<Packet[]> {
    const before = this.received.length;
    this.send({ cmd: 'pingreq' });
    for (;;) {
      const i = this.received.findIndex((p, k) => k >= before && p.cmd === 'pingresp');
      if (i >= 0) {
        const out = this.received.slice(this.#read, i);
        this.received.splice(i, 1);
        this.#read = i;
        return out;
      }
      if (this.#closed) throw new Error('connection closed while waiting for PINGRESP');
      await new Promise<void>((r) => this.#waiters.add(r));
    }
  }

  /** Resolves when the server has closed the connection (rejects after `ms`). */
  async waitClosed(ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.#closed) {
      if (Date.now() > until) throw new Error('the server did not close the connection');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, until - Date.now()));
        this.#waiters.add(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Closes the socket (no DISCONNECT: the server sees a network failure). */
  destroy(): void {
    this.#sock.destroy();
  }

  /** DISCONNECT, then closes. */
  disconnect(): void {
    this.send({ cmd: 'disconnect' });
    this.#sock.end();
  }

  #wake(): void {
    const w = [...this.#waiters];
    this.#waiters.clear();
    for (const f of w) f();
  }
}

export function describe(p: Packet): string {
  if (p.cmd === 'publish')
    return `publish(${p.topic} q${p.qos} id=${p.messageId ?? '-'} dup=${p.dup} retain=${p.retain} "${p.payload.toString()}")`;
  if ('messageId' in p && p.messageId !== undefined) return `${p.cmd}(${p.messageId})`;
  return p.cmd;
}
