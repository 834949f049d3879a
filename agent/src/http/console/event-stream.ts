import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** What a console page can subscribe to. */
export const TOPICS = ['sensors', 'samples', 'gpio'] as const;
export type Topic = (typeof TOPICS)[number];

/** Beyond this much unsent data a client is cut off (it reconnects and gets a snapshot). */
const MAX_BUFFERED = 4 * 1024 * 1024;

interface Client {
  readonly id: number;
  readonly topics: ReadonlySet<Topic>;
  readonly res: ServerResponse;
  /** The socket buffer is full: events are skipped until 'drain'. */
  congested: boolean;
  /** A sensors delta was skipped: the client needs a snapshot once it drains. */
  missed: boolean;
}

export interface StreamHubOptions {
  readonly maxStreams: number;
  readonly heartbeatMs: number;
  readonly log: Logger;
  readonly now: () => number;
  /** The first events of a new client (hello is sent before): e.g. the sensor snapshot. */
  readonly initial: (topics: ReadonlySet<Topic>) => { event: string; data: string }[];
}

function frame(event: string, data: string): string {
  // JSON never contains a raw newline, so one data line per event is enough.
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Server-Sent Events to console pages (HTML Living Standard §9.2): one long response per page,
 * each event serialised once and written to every subscriber of its topic. A client whose
 * socket cannot keep up skips events (and gets a fresh snapshot when it drains) rather than
 * making the agent buffer without bound; past 4 MiB unsent it is disconnected.
 */
export class StreamHub {
  readonly #o: StreamHubOptions;
  readonly #clients = new Map<number, Client>();
  #nextId = 1;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(o: StreamHubOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Whether any open stream subscribed to `topic`. */
  has(topic: Topic): boolean {
    for (const c of this.#clients.values()) if (c.topics.has(topic)) return true;
    return false;
  }

  /**
   * Takes over the request's socket and keeps it as a stream; false (and nothing written)
   * when the limit is reached: the caller answers 503.
   */
  open(req: FastifyRequest, reply: FastifyReply, topics: ReadonlySet<Topic>): boolean {
    if (this.#clients.size >= this.#o.maxStreams) return false;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // A reverse proxy must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const c: Client = { id: this.#nextId++, topics, res, congested: false, missed: false };
    this.#clients.set(c.id, c);
    req.raw.on('close', () => this.#drop(c));
    res.on('error', () => this.#drop(c));
    this.#write(c, frame('hello', JSON.stringify({ now: this.#o.now(), topics: [...topics] })));
    for (const e of this.#o.initial(topics)) this.#write(c, frame(e.event, e.data));
    this.#heartbeat ??= setInterval(() => this.#beat(), this.#o.heartbeatMs).unref();
    this.#o.log.debug(
      { event: 'console.stream_open', id: c.id, topics: [...topics] },
      'stream opened',
    );
    return true;
  }

  /** Sends one event to every subscriber of `topic` (serialised by the caller, once). */
  send(topic: Topic, event: string, data: string): void {
    this.sendAll(topic, event, [data]);
  }

  /**
   * Sends events of one topic as one batch (a tick's changes, cut into events of a bounded
   * size): a client takes all of them, or none when its socket is congested as the batch
   * starts (it gets a snapshot when it drains). Each part is serialised once, when it is
   * reached; unsent data past 4 MiB still cuts a client off, and once no client is left the
   * remaining parts are not built.
   */
  sendAll(topic: Topic, event: string, parts: Iterable<string>): void {
    const takers: Client[] = [];
    for (const c of this.#clients.values()) {
      if (!c.topics.has(topic)) continue;
      if (c.congested) {
        if (topic === 'sensors') c.missed = true;
        continue;
      }
      takers.push(c);
    }
    if (takers.length === 0) return;
    for (const data of parts) {
      const text = frame(event, data);
      let open = 0;
      for (const c of takers) {
        if (!this.#clients.has(c.id)) continue;
        this.#write(c, text);
        open++;
      }
      if (open === 0) return;
    }
  }

  #write(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) return;
    if (c.res.writableLength > MAX_BUFFERED) {
      this.#o.log.warn(
        { event: 'console.stream_slow', id: c.id },
        'console stream cut: client too slow',
      );
      c.res.destroy();
      this.#drop(c);
      return;
    }
    if (!c.res.write(text) && !c.congested) {
      c.congested = true;
      c.res.once('drain', () => {
        c.congested = false;
        if (c.missed) {
          c.missed = false;
          for (const e of this.#o.initial(new Set<Topic>(['sensors'])))
            this.#write(c, frame(e.event, e.data));
        }
      });
    }
  }

  #beat(): void {
    for (const c of this.#clients.values()) if (!c.congested) this.#write(c, ':\n\n');
  }

  #drop(c: Client): void {
    if (!this.#clients.delete(c.id)) return;
    if (this.#clients.size === 0 && this.#heartbeat !== undefined) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  /** Ends every stream (the agent is stopping: HTTP close must not wait for them). */
  closeAll(): void {
    for (const c of [...this.#clients.values()]) {
      c.res.end();
      this.#drop(c);
    }
  }
}

/** Parses `?topics=a,b`; undefined when a name is unknown. */
export function parseTopics(q: unknown): Set<Topic> | undefined {
  const raw = typeof q === 'string' ? q : '';
  const names = raw.split(',').filter(Boolean);
  if (names.length === 0) return undefined;
  const out = new Set<Topic>();
  for (const n of names) {
    if (!(TOPICS as readonly string[]).includes(n)) return undefined;
    out.add(n as Topic);
  }
  return out;
}
