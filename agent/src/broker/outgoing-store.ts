/**
 * The outgoing queues of persistent (`clean: false`) sessions: per client, the QoS 1/2
 * messages waiting for or in delivery, in order, with their packet ids once assigned, and
 * PUBREL markers for QoS 2 messages acknowledged by PUBREC but not yet completed.
 *
 * Semantics are aedes-persistence's (its contract suite runs against this), with indexes so
 * that every operation is O(1) instead of a scan of the queue, and {@link idInUse} so that the
 * broker can skip ids still in flight when it assigns new ones (see packet-ids.ts).
 */

/** The fields of a queued packet that the store looks at; the object itself is kept as given. */
export interface OutgoingPacket {
  cmd: string;
  brokerId?: string | undefined;
  brokerCounter?: number | undefined;
  messageId?: number | undefined;
}

class ClientQueue<P extends OutgoingPacket> {
  readonly entries = new Map<number, P>();
  /** `brokerId \0 brokerCounter` -> seq */
  readonly byCounter = new Map<string, number>();
  /** messageId -> seqs holding it, oldest first (more than one only if a caller reused an id). */
  readonly byId = new Map<number, number[]>();
  nextSeq = 0;

  push(p: P): void {
    const seq = this.nextSeq++;
    this.entries.set(seq, p);
    this.#index(seq, p);
  }

  #index(seq: number, p: P): void {
    if (p.brokerId !== undefined) this.byCounter.set(counterKey(p), seq);
    if (p.messageId !== undefined) {
      const seqs = this.byId.get(p.messageId);
      if (seqs === undefined) this.byId.set(p.messageId, [seq]);
      else {
        seqs.push(seq);
        seqs.sort((a, b) => a - b);
      }
    }
  }

  #unindex(seq: number, p: P): void {
    if (p.brokerId !== undefined && this.byCounter.get(counterKey(p)) === seq)
      this.byCounter.delete(counterKey(p));
    if (p.messageId !== undefined) {
      const seqs = this.byId.get(p.messageId);
      if (seqs === undefined) return;
      const i = seqs.indexOf(seq);
      if (i >= 0) seqs.splice(i, 1);
      if (seqs.length === 0) this.byId.delete(p.messageId);
    }
  }

  /** Replaces the entry at `seq` (same position in the queue). */
  replace(seq: number, p: P): void {
    const old = this.entries.get(seq);
    if (old !== undefined) this.#unindex(seq, old);
    this.entries.set(seq, p);
    this.#index(seq, p);
  }

  /** Sets the packet id of the entry at `seq` in place. */
  setId(seq: number, messageId: number | undefined): void {
    const p = this.entries.get(seq);
    if (p === undefined) return;
    this.#unindex(seq, p);
    p.messageId = messageId;
    this.#index(seq, p);
  }

  remove(seq: number): P | undefined {
    const p = this.entries.get(seq);
    if (p === undefined) return undefined;
    this.#unindex(seq, p);
    this.entries.delete(seq);
    return p;
  }
}

function counterKey(p: OutgoingPacket): string {
  return `${p.brokerId ?? ''}\0${p.brokerCounter ?? 0}`;
}

/** The outgoing queues of every client (see the file comment). */
export class OutgoingStore<P extends OutgoingPacket = OutgoingPacket> {
  readonly #clients = new Map<string, ClientQueue<P>>();

  #queue(clientId: string): ClientQueue<P> {
    let q = this.#clients.get(clientId);
    if (q === undefined) this.#clients.set(clientId, (q = new ClientQueue<P>()));
    return q;
  }

  /** Appends a message to a client's queue. */
  enqueue(clientId: string, p: P): void {
    this.#queue(clientId).push(p);
  }

  /**
   * aedes's `outgoingUpdate`: a PUBLISH of this broker (same brokerId and brokerCounter) takes
   * the packet id given; a packet of another origin (a PUBREL has no brokerId) replaces the
   * oldest entry with its packet id. Returns false when nothing matched.
   */
  update(clientId: string, p: P): boolean {
    const q = this.#clients.get(clientId);
    if (q === undefined) return false;
    if (p.brokerId !== undefined) {
      const seq = q.byCounter.get(counterKey(p));
      if (seq !== undefined) {
        q.setId(seq, p.messageId);
        return true;
      }
    }
    if (p.messageId === undefined) return false;
    for (const seq of q.byId.get(p.messageId) ?? []) {
      const e = q.entries.get(seq);
      if (e !== undefined && e.brokerId !== p.brokerId) {
        q.replace(seq, p);
        return true;
      }
    }
    return false;
  }

  /** Removes and returns the oldest entry with this packet id (PUBACK, PUBCOMP). */
  clear(clientId: string, messageId: number | undefined): P | undefined {
    if (messageId === undefined) return undefined;
    const q = this.#clients.get(clientId);
    const seq = q?.byId.get(messageId)?.[0];
    if (q === undefined || seq === undefined) return undefined;
    const p = q.remove(seq);
    if (q.entries.size === 0) this.#clients.delete(clientId);
    return p;
  }

  /** Removes a queued message by its broker identity (a publish that was not acknowledged). */
  removeMessage(clientId: string, brokerId: string, brokerCounter: number): void {
    const q = this.#clients.get(clientId);
    const seq = q?.byCounter.get(counterKey({ cmd: 'publish', brokerId, brokerCounter }));
    if (q === undefined || seq === undefined) return;
    q.remove(seq);
    if (q.entries.size === 0) this.#clients.delete(clientId);
  }

  /** Whether a client's queue holds the message of this broker id and counter. */
  hasMessage(clientId: string, brokerId: string, brokerCounter: number): boolean {
    const q = this.#clients.get(clientId);
    return q?.byCounter.has(counterKey({ cmd: 'publish', brokerId, brokerCounter })) ?? false;
  }

  /** The packet id a queued message of this broker already has towards the client. */
  messageIdOf(clientId: string, brokerId: string, brokerCounter: number): number | undefined {
    const q = this.#clients.get(clientId);
    const seq = q?.byCounter.get(counterKey({ cmd: 'publish', brokerId, brokerCounter }));
    return seq === undefined ? undefined : q?.entries.get(seq)?.messageId;
  }

  /** Whether a queued message of this client holds the packet id (in flight). */
  idInUse(clientId: string, messageId: number): boolean {
    return this.#clients.get(clientId)?.byId.has(messageId) ?? false;
  }

  /** A client's queue, oldest first (a copy: the stream must not see later changes). */
  list(clientId: string): P[] {
    const q = this.#clients.get(clientId);
    return q === undefined ? [] : [...q.entries.values()];
  }

  /** Drops a client's queue entirely. */
  drop(clientId: string): void {
    this.#clients.delete(clientId);
  }

  /** Every non-empty queue (for a snapshot). */
  *queues(): IterableIterator<[string, P[]]> {
    for (const [c, q] of this.#clients) if (q.entries.size > 0) yield [c, [...q.entries.values()]];
  }

  /** Whether any client has a queue (O(1); empty queues are removed). */
  get hasQueues(): boolean {
    return this.#clients.size > 0;
  }

  /** Messages queued over all clients. */
  get size(): number {
    let n = 0;
    for (const q of this.#clients.values()) n += q.entries.size;
    return n;
  }
}
