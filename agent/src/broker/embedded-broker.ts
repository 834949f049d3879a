import { createServer, type AddressInfo, type Server } from 'node:net';
import { once } from 'node:events';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  maxConnections: number;
}

export interface EmbeddedBrokerDeps {
  log: Logger;
  /**
   * Called for every PUBLISH from a client, inside aedes's `published` hook: for QoS 2 this
   * runs after the packet is stored and before PUBREC is sent, so the consumer sees each
   * message once, in-process, without a second network hop. Must not throw. When it returns
   * a promise, PUBREC waits for it; a rejection closes the connection without PUBREC (the
   * client retransmits).
   */
  onPublish: (
    topic: string,
    payload: Uint8Array,
    clientId: string,
    info: { qos: 0 | 1 | 2; messageId: number | undefined },
  ) => void | Promise<void>;
  /** An aedes persistence (default: aedes-persistence in memory). */
  persistence?: unknown;
}

/** The embedded aedes broker that devices publish to. */
export class EmbeddedBroker {
  readonly #aedes: Aedes;
  readonly #server: Server;
  readonly #log: Logger;

  private constructor(aedes: Aedes, server: Server, log: Logger) {
    this.#aedes = aedes;
    this.#server = server;
    this.#log = log;
  }

  static async start(
    opts: EmbeddedBrokerOptions,
    deps: EmbeddedBrokerDeps,
  ): Promise<EmbeddedBroker> {
    const { log } = deps;
    const aedes = await Aedes.createBroker({
      ...(deps.persistence !== undefined ? { persistence: deps.persistence } : {}),
      published(
        packet: AedesPublishPacket,
        client: Client | null,
        done: (err?: Error | null) => void,
      ) {
        // Broker-internal publishes ($SYS, dead letters, our own API) have no client.
        if (client === null) return done(null);
        const pending = deps.onPublish(packet.topic, packet.payload as Uint8Array, client.id, {
          qos: packet.qos,
          messageId: packet.messageId,
        });
        if (pending === undefined) return done(null);
        pending.then(
          () => done(null),
          (err: unknown) => done(err as Error),
        );
      },
    });
    aedes.on('clientError', (client, err) => {
      log.debug(
        { event: 'mqtt.client_error', clientId: client.id, err: err.message },
        'client error',
      );
    });
    aedes.on('connectionError', (_client, err) => {
      log.debug({ event: 'mqtt.connection_error', err: err.message }, 'connection error');
    });
    // Nagle + delayed ACK would hold each small PUBREC/PUBCOMP for up to 40 ms.
    const server = createServer({ noDelay: true }, aedes.handle);
    server.maxConnections = opts.maxConnections;
    server.listen(opts.port, opts.host);
    try {
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([err]) => Promise.reject(err as Error)),
      ]);
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new AgentError(
        'EDGEFLOW_LISTEN_FAILED',
        `MQTT listener ${opts.host}:${opts.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new EmbeddedBroker(aedes, server, log);
  }

  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  get listening(): boolean {
    return this.#server.listening;
  }

  get connectedClients(): number {
    return this.#aedes.connectedClients;
  }

  /** Publishes from inside the agent (QoS 0, not retained); errors are logged, not thrown. */
  publish(topic: string, payload: Buffer): void {
    this.#aedes.publish(
      { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false },
      (err?: Error) => {
        if (err)
          this.#log.warn(
            { event: 'mqtt.publish_failed', topic, err: err.message },
            'publish failed',
          );
      },
    );
  }

  /** Stops accepting connections, then closes clients (in-flight handlers finish first). */
  async close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
    await serverClosed;
  }
}
