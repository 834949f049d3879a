import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
// mqtt-packet is the codec of both mqtt.js and aedes (a dependency of each, hoisted).
import { generate, parser, type Packet, type IPublishPacket } from 'mqtt-packet';

/**
 * What the receiver does with an incoming QoS 2 PUBLISH:
 * - `none`: nothing at all, no PUBREC (a receiver that dropped it unprocessed, as if it had
 *   crashed before storing it; the sender still owns the message and must resend it);
 * - `hold`: processes it at once but queues the acknowledgements until {@link releaseAcks};
 * - `immediate`: processes and acknowledges it at once.
 */
export type AckMode = 'none' | 'hold' | 'immediate';

export interface RawReceiverOptions {
  port: number;
  clientId: string;
  clean: boolean;
  acks: AckMode;
}

/** One PUBLISH frame as it arrived. */
export interface Frame {
  id: number | undefined;
  dup: boolean;
  topic: string;
  payload: string;
}

/**
 * A minimal MQTT 3.1.1 subscriber over a raw socket that receives QoS 2 exactly as the spec's
 * receiver in 4.3.3 "method B" (Figure 4.3): on PUBLISH it stores the packet id and delivers
 * the message onward at once, then sends PUBREC; "until it has received the corresponding
 * PUBREL packet, the Receiver MUST acknowledge any subsequent PUBLISH packet with the same
 * Packet Identifier by sending a PUBREC. It MUST NOT cause duplicate messages to be delivered
 * to any onward recipients in this case" [MQTT-4.3.3-2]; on PUBREL it discards the id and
 * sends PUBCOMP (also for an id it does not know). Unlike mqtt.js it lets a test decide when
 * acknowledgements leave, and records every frame, so a sender's misuse of packet ids is seen
 * on the wire.
 */
export class RawQos2Receiver {
  /** CONNACK's session-present flag. */
  sessionPresent = false;
  /** Every PUBLISH frame received, in order. */
  readonly frames: Frame[] = [];
  /** Payloads delivered onward, in order (duplicates of an id awaiting PUBREL are not). */
  readonly delivered: string[] = [];
  /** Ids for which a PUBLISH was accepted and no PUBREL has arrived yet. */
  readonly awaitingPubrel = new Set<number>();
  /** PUBLISH frames taken as a retransmission (their id was awaiting PUBREL). */
  duplicates = 0;
  pubrecsSent = 0;
  pubrelsReceived = 0;
  #acks: AckMode;
  readonly #held: Buffer[] = [];
  readonly #sock: Socket;
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #nextId = 1;
  #connack: ((err?: Error) => void) | undefined;
  #suback: ((granted: number[]) => void) | undefined;
  #pingresps = 0;

  private constructor(sock: Socket, acks: AckMode) {
    this.#sock = sock;
    this.#acks = acks;
    const p = parser({ protocolVersion: 4 });
    p.on('packet', (pkt: Packet) => this.#onPacket(pkt));
    p.on('error', (err: Error) => sock.destroy(err));
    sock.on('data', (d: Buffer) => p.parse(d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.#closed = true;
      this.#connack?.(new Error('connection closed before CONNACK'));
      this.#wake();
    });
  }

  /** Connects (keepalive off) and resolves after a successful CONNACK. */
  static async connect(opts: RawReceiverOptions): Promise<RawQos2Receiver> {
    const sock = connect({ host: '127.0.0.1', port: opts.port, noDelay: true });
    await once(sock, 'connect');
    // Created before CONNACK is read: the server may send queued PUBLISHes in the same segment.
    const r = new RawQos2Receiver(sock, opts.acks);
    const connack = new Promise<void>((resolve, reject) => {
      r.#connack = (err) => (err ? reject(err) : resolve());
    });
    sock.write(
      generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clientId: opts.clientId,
        clean: opts.clean,
        keepalive: 0,
      }),
    );
    await connack;
    return r;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribes; resolves with the granted QoS per filter. */
  async subscribe(topic: string, qos: 0 | 1 | 2): Promise<number[]> {
    const granted = new Promise<number[]>((r) => (this.#suback = r));
    this.#sock.write(
      generate({ cmd: 'subscribe', messageId: this.#nextId++, subscriptions: [{ topic, qos }] }),
    );
    return granted;
  }

  /** Sends every held acknowledgement in one write; from now on acknowledges at once. */
  releaseAcks(): void {
    this.#acks = 'immediate';
    if (this.#held.length > 0) this.#sock.write(Buffer.concat(this.#held.splice(0)));
  }

  /** PINGREQ, resolves on PINGRESP (the server has read everything sent before it). */
  async ping(ms: number): Promise<void> {
    const before = this.#pingresps;
    this.#sock.write(generate({ cmd: 'pingreq' }));
    await this.until(() => this.#pingresps > before, 'PINGRESP', ms);
  }

  /**
   * Resolves once `done()` holds, checked after every packet. Rejects when the connection
   * closes first, or after `ms` (a safety net against a hang; the tests never wait for it
   * when the broker behaves).
   */
  async until(done: () => boolean, what: string, ms: number): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (done()) finish(resolve);
        else if (this.#closed) finish(() => reject(new Error(`connection closed: ${what}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`not within ${ms} ms: ${what}`))),
        ms,
      );
      const finish = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
    });
  }

  /** Sends DISCONNECT and resolves once the server closed the connection. */
  async disconnect(): Promise<void> {
    if (this.#closed) return;
    const closed = once(this.#sock, 'close');
    this.#sock.end(generate({ cmd: 'disconnect' }));
    await closed;
  }

  /** Drops the connection without DISCONNECT. */
  destroy(): void {
    this.#sock.destroy();
  }

  #onPacket(pkt: Packet): void {
    switch (pkt.cmd) {
      case 'publish':
        this.#onPublish(pkt);
        break;
      case 'pubrel':
        this.pubrelsReceived++;
        this.awaitingPubrel.delete(pkt.messageId ?? 0);
        this.#ack(generate({ cmd: 'pubcomp', messageId: pkt.messageId ?? 0 }));
        break;
      case 'connack': {
        const err =
          (pkt.returnCode ?? 0) === 0 ? undefined : new Error(`CONNACK code ${pkt.returnCode}`);
        this.sessionPresent = pkt.sessionPresent;
        this.#connack?.(err);
        this.#connack = undefined;
        break;
      }
      case 'suback':
        this.#suback?.(pkt.granted as number[]);
        break;
      case 'pingresp':
        this.#pingresps++;
        break;
      default:
        break;
    }
    this.#wake();
  }

  #onPublish(pkt: IPublishPacket): void {
    const payload = pkt.payload.toString();
    const id = pkt.messageId;
    this.frames.push({ id, dup: pkt.dup, topic: pkt.topic, payload });
    if (this.#acks === 'none') return;
    if (pkt.qos !== 2 || id === undefined) {
      this.delivered.push(payload);
      if (pkt.qos === 1) this.#ack(generate({ cmd: 'puback', messageId: id ?? 0 }));
      return;
    }
    if (this.awaitingPubrel.has(id)) this.duplicates++;
    else {
      this.awaitingPubrel.add(id);
      this.delivered.push(payload);
    }
    this.pubrecsSent++;
    this.#ack(generate({ cmd: 'pubrec', messageId: id }));
  }

  #ack(buf: Buffer): void {
    if (this.#acks === 'hold') this.#held.push(buf);
    else this.#sock.write(buf);
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
