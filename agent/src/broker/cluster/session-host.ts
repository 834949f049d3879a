import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { SubscriptionRec } from '../../wal/records.js';
import type { MemoryPersistence } from '../memory-persistence.js';
import { SessionExpiry } from '../session-expiry.js';
import {
  revive,
  toWire,
  type ClaimGrant,
  type PacketWire,
  type SessionApi,
  type SubsChange,
} from './session-api.js';

/** How the host reaches the workers. */
export interface WorkerLinks {
  /**
   * How many subscription changes were sent to the workers (one Int32 in shared memory, raised
   * after each broadcast, before the reply that lets the client see its SUBACK): a worker whose
   * replica has applied fewer waits before it matches a publish against it.
   */
  subsEpoch: Int32Array;
  /** Asks worker `w` to let client `c` go: it closes the connection, settles the client's log records, returns the committed incoming ids. */
  release(w: number, c: string): Promise<[number, string][]>;
  /** Sends a subscription change to every worker (before any reply that follows it). */
  broadcast(change: SubsChange): void;
}

export interface SessionHostDeps {
  /** The session store (DurablePersistence with the write-ahead log; MemoryPersistence without). */
  persistence: MemoryPersistence;
  /**
   * Committed incoming QoS 2 ids of the clients no worker serves (DurableLog.incoming with the
   * log, so that a checkpoint saves them; a plain map without).
   */
  parked: Map<string, Map<number, string>>;
  links: WorkerLinks;
  log: Logger;
  now: () => number;
  /** Persistent sessions of clients away longer than this are dropped (0: never). */
  sessionExpirySec: number;
  onSessionExpired?: () => void;
}

interface Owner {
  worker: number;
  seq: number;
}

/**
 * The main thread's side of the clustered broker: the persistent sessions every ingest worker
 * uses (subscriptions, retained messages, outgoing queues, session existence), and which worker
 * serves each client id.
 *
 * A client id is served by one worker at a time. A worker that accepts a CONNECT claims the id
 * first (aedes `preConnect`); if another worker serves it, that worker closes its connection and
 * waits until the client's log records are settled before the claim is granted, so the log never
 * holds a record of the old worker for that client after one of the new worker, and the new
 * worker starts from the client's committed incoming QoS 2 ids: a retransmission after the move
 * is recognised as one [MQTT-4.3.3-2]. A worker whose client disconnects parks the ids here.
 */
export class SessionHost {
  readonly #deps: SessionHostDeps;
  readonly #owner = new Map<string, Owner>();
  /** Claims of one client id run one after the other. */
  readonly #claims = new Map<string, Promise<unknown>>();
  #seq = 0;
  readonly #expiry: SessionExpiry | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(deps: SessionHostDeps) {
    this.#deps = deps;
    const p = deps.persistence;
    if (deps.sessionExpirySec > 0) {
      this.#expiry = new SessionExpiry(
        {
          sessionClients: () => p.sessionClients(),
          expireSession: async (c) => {
            await p.expireSession(c);
            this.#deps.parked.delete(c);
            this.#track({ t: 'clean', c });
            deps.links.broadcast({ t: 'clean', c });
            Atomics.add(deps.links.subsEpoch, 0, 1);
          },
        },
        deps.sessionExpirySec,
        {
          now: deps.now,
          onExpired: (c, awayMs) => {
            deps.onSessionExpired?.();
            deps.log.info(
              { event: 'mqtt.session_expired', clientId: c, awaySec: Math.round(awayMs / 1000) },
              'persistent session expired: subscriptions and queued messages dropped',
            );
          },
          onError: (c, err) =>
            deps.log.warn(
              { event: 'mqtt.session_expiry_failed', clientId: c, err: err.message },
              'persistent session could not be expired; retried at the next sweep',
            ),
        },
      );
      void this.#expiry.sweep();
      const every = Math.min(60_000, Math.max(1000, (deps.sessionExpirySec * 1000) / 4));
      this.#expiryTimer = setInterval(() => void this.#expiry?.sweep(), every);
      this.#expiryTimer.unref();
    }
  }

  /** Every persistent subscription (the store's, kept here too so a snapshot is synchronous). */
  readonly #subs = new Map<string, Map<string, SubscriptionRec>>();

  /** Loads the subscriptions the store restored (before any worker starts). */
  async init(): Promise<void> {
    for (const [c, subs] of await this.#deps.persistence.persistentSubscriptions())
      this.#track({ t: 'add', c, subs });
  }

  #track(change: SubsChange): void {
    if (change.t === 'clean') {
      this.#subs.delete(change.c);
      return;
    }
    let m = this.#subs.get(change.c);
    if (change.t === 'add') {
      if (m === undefined) this.#subs.set(change.c, (m = new Map<string, SubscriptionRec>()));
      for (const sub of change.subs) m.set(sub.topic, sub);
      return;
    }
    for (const topic of change.topics) m?.delete(topic);
    if (m?.size === 0) this.#subs.delete(change.c);
  }

  /**
   * The persistent subscriptions now, for a starting worker's replica: synchronous, so that
   * the caller can start the worker and register it for later changes with no change between.
   */
  subscriptions(): [string, SubscriptionRec[]][] {
    return [...this.#subs].map(([c, m]) => [c, [...m.values()]]);
  }

  /** The API worker `w` calls (each call knows which worker made it). */
  api(w: number): SessionApi {
    const p = this.#deps.persistence;
    const client = (c: string) => ({ id: c }) as Client;
    const links = this.#deps.links;
    const broadcast = (change: SubsChange): void => {
      this.#track(change);
      links.broadcast(change);
      Atomics.add(links.subsEpoch, 0, 1);
    };
    return {
      claim: (c) => this.#serialize(c, () => this.#claim(c, w)),
      subscribe: async (c, subs) => {
        await p.addSubscriptions(client(c), subs);
        broadcast({ t: 'add', c, subs });
      },
      unsubscribe: async (c, topics) => {
        await p.removeSubscriptions(client(c), topics);
        broadcast({ t: 'remove', c, topics });
      },
      cleanSubscriptions: async (c) => {
        await p.cleanSubscriptions(client(c));
        broadcast({ t: 'clean', c });
      },
      sessionPresent: (c) => p.sessionPresent(client(c)),
      storeRetained: (packet) =>
        p.storeRetained(revive(packet)).catch((err: unknown) =>
          this.#deps.log.warn(
            {
              event: 'mqtt.retained_store_failed',
              topic: packet.topic,
              err: (err as Error).message,
            },
            'retained message not stored',
          ),
        ),
      retained: async (patterns) => {
        const out: PacketWire[] = [];
        for await (const pk of p.createRetainedStreamCombi(patterns))
          out.push(toWire(pk as object));
        return out;
      },
      enqueue: (cs, packet) => {
        this.#trace('enqueue', w, cs.join(','), packet);
        return p.outgoingEnqueueCombi(
          cs.map((c) => ({ clientId: c })),
          revive(packet),
        );
      },
      unqueue: (cs, bid, bc) => p.removeQueued(cs, bid, bc),
      update: async (c, packet) => {
        this.#trace('update', w, c, packet);
        this.#mustServe(w, c);
        await p.outgoingUpdate(client(c), revive(packet));
      },
      clear: async (c, m) => {
        this.#mustServe(w, c);
        const found = await p.outgoingClearMessageId(client(c), { messageId: m });
        return found === undefined ? undefined : toWire(found);
      },
      // Through the store's own stream: it replays each entry at the QoS the client's
      // subscriptions grant now [MQTT-3.8.4-6].
      stream: async (c) => {
        const out: PacketWire[] = [];
        for await (const pk of p.outgoingStream(client(c))) out.push(toWire(pk as object));
        this.#trace('stream', w, c, { cmd: 'stream', brokerCounter: out.length });
        return out;
      },
    };
  }

  /**
   * Only the worker serving a client changes its queue: a connection the client left on another
   * worker (closed, its mq listeners not yet gone) must not renumber a message the new one is
   * delivering (a PUBREL would then match nothing, and the replay carry an id the subscriber
   * never saw: a duplicate).
   */
  #mustServe(w: number, c: string): void {
    if (this.#owner.get(c)?.worker !== w)
      throw Object.assign(new Error(`client ${c} is not served by ingest worker ${w}`), {
        code: 'EDGEFLOW_CLIENT_MOVED',
      });
  }

  /** Debug lines of the session traffic (log level debug). */
  #trace(op: string, w: number, c: string, p: PacketWire): void {
    const log = this.#deps.log;
    if (!log.isLevelEnabled('debug')) return;
    log.debug(
      {
        event: 'mqtt.session_op',
        op,
        worker: w,
        clientId: c,
        cmd: p.cmd,
        bc: p.brokerCounter,
        mid: p.messageId,
      },
      op,
    );
  }

  #serialize<T>(c: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#claims.get(c) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#claims.set(c, tail);
    void tail.then(() => {
      if (this.#claims.get(c) === tail) this.#claims.delete(c);
    });
    return next;
  }

  async #claim(c: string, w: number): Promise<ClaimGrant> {
    const { parked, links, persistence } = this.#deps;
    const old = this.#owner.get(c);
    if (old !== undefined) {
      const ids = await links.release(old.worker, c);
      // A park the old worker sent before its reply was handled first (ports keep order).
      if (ids.length > 0) parked.set(c, new Map(ids));
      this.#owner.delete(c);
    }
    const incoming = [...(parked.get(c) ?? [])];
    parked.delete(c);
    const seq = ++this.#seq;
    this.#owner.set(c, { worker: w, seq });
    this.#expiry?.connected(c);
    const outIds: number[] = [];
    for (const pk of persistence.queued(c))
      if (pk.messageId !== undefined) outIds.push(pk.messageId);
    return { incoming, outIds, seq };
  }

  /** Worker `w` no longer serves client `c` (it disconnected); `ids`: its committed incoming ids. */
  park(w: number, c: string, seq: number, ids: [number, string][]): void {
    const o = this.#owner.get(c);
    // A stale park (the client was claimed again since) changes nothing.
    if (o === undefined || o.worker !== w || o.seq !== seq) return;
    this.#owner.delete(c);
    if (ids.length > 0) this.#deps.parked.set(c, new Map(ids));
    this.#expiry?.disconnected(c);
  }

  /** Client ids served by worker `w` (its exit: they are parked with what the log holds). */
  clientsOf(w: number): string[] {
    return [...this.#owner].filter(([, o]) => o.worker === w).map(([c]) => c);
  }

  close(): void {
    clearInterval(this.#expiryTimer);
  }
}
