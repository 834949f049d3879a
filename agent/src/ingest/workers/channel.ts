/**
 * Requests, replies and one-way notes between the main thread and an ingest worker, over one
 * MessagePort (or a Worker / the worker's parentPort). Messages are handled in the order they
 * arrive, which the protocol relies on: a worker's log batch, then its release of a client,
 * reach the main thread in the order it sent them.
 */

/** What a channel can send on and listen to. */
export interface PortLike {
  postMessage(msg: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', fn: (msg: unknown) => void): unknown;
}

type Handler = (...args: never[]) => unknown;
export type Handlers = Record<string, Handler>;

type Msg =
  | { k: 'q'; id: number; m: string; a: unknown[] }
  | { k: 'r'; id: number; v: unknown }
  | { k: 'e'; id: number; e: WireError }
  | { k: 'n'; m: string; a: unknown[] };

/** An error as it crosses: message, code, the socket fields, and its causes. */
interface WireError {
  message: string;
  code?: string;
  port?: number;
  address?: string;
  syscall?: string;
  cause?: WireError;
}

/**
 * An error that came back from the other side of a {@link Channel}: message and code kept, and
 * the cause chain with the socket fields (EADDRINUSE with its port: the start-failure line
 * names the listener from them).
 */
export class RemoteError extends Error {
  readonly code: string | undefined;
  readonly port: number | undefined;
  readonly address: string | undefined;
  constructor(e: WireError) {
    super(e.message, e.cause === undefined ? undefined : { cause: new RemoteError(e.cause) });
    this.code = e.code;
    this.port = e.port;
    this.address = e.address;
  }
}

function toWireError(err: unknown, depth = 0): WireError {
  const e = err as Partial<Record<keyof WireError, unknown>> | null;
  const out: WireError = {
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.port === 'number') out.port = e.port;
  if (typeof e?.address === 'string') out.address = e.address;
  if (typeof e?.syscall === 'string') out.syscall = e.syscall;
  if (e?.cause !== undefined && e.cause !== null && depth < 4)
    out.cause = toWireError(e.cause, depth + 1);
  return out;
}

/**
 * One end of a channel: `L` the handlers this end serves, `R` those of the other end. A handler
 * may return a value or a promise; a thrown error (or rejection) becomes a {@link RemoteError}
 * at the caller. Notes ({@link note}) have no reply.
 */
export class Channel<L extends Handlers, R extends Handlers> {
  readonly #port: PortLike;
  readonly #handlers: L;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #next = 1;
  #closed: Error | undefined;

  constructor(port: PortLike, handlers: L) {
    this.#port = port;
    this.#handlers = handlers;
    port.on('message', (msg) => this.#receive(msg as Msg));
  }

  /** Calls `method` on the other end; resolves with what its handler returned. */
  call<K extends keyof R & string>(
    method: K,
    ...args: Parameters<R[K]>
  ): Promise<Awaited<ReturnType<R[K]>>> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#port.postMessage({ k: 'q', id, m: method, a: args } satisfies Msg);
    });
  }

  /** Tells the other end something, without a reply (`transfer`: buffers handed over). */
  note<K extends keyof R & string>(
    method: K,
    args: Parameters<R[K]>,
    transfer?: readonly ArrayBuffer[],
  ): void {
    if (this.#closed !== undefined) return;
    this.#port.postMessage({ k: 'n', m: method, a: args } satisfies Msg, transfer);
  }

  /** Fails every call still waiting for a reply (the other end is gone). */
  close(err: Error): void {
    this.#closed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #receive(msg: Msg): void {
    if (msg.k === 'r' || msg.k === 'e') {
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.k === 'r') p.resolve(msg.v);
      else p.reject(new RemoteError(msg.e));
      return;
    }
    const fn = this.#handlers[msg.m] as ((...a: unknown[]) => unknown) | undefined;
    if (fn === undefined) {
      if (msg.k === 'q') this.#fail(msg.id, new Error(`no handler for ${msg.m}`));
      return;
    }
    if (msg.k === 'n') {
      fn(...msg.a);
      return;
    }
    let out: unknown;
    try {
      out = fn(...msg.a);
    } catch (err) {
      this.#fail(msg.id, err);
      return;
    }
    if (out instanceof Promise)
      out.then(
        (v: unknown) => this.#reply(msg.id, v),
        (err: unknown) => this.#fail(msg.id, err),
      );
    else this.#reply(msg.id, out);
  }

  #reply(id: number, v: unknown): void {
    if (this.#closed === undefined) this.#port.postMessage({ k: 'r', id, v } satisfies Msg);
  }

  #fail(id: number, err: unknown): void {
    const out: Msg = { k: 'e', id, e: toWireError(err) };
    if (this.#closed === undefined) this.#port.postMessage(out);
  }
}
