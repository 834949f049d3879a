/**
 * Expiry of persistent sessions whose client stays away. A `clean: false` client that never
 * comes back would keep its subscriptions, and a queue that grows with every matching message,
 * in memory, in the write-ahead log and in every snapshot. MQTT 5 has a session expiry
 * interval for that; aedes 1.2 speaks MQTT 3.1.1 only, so the broker applies one interval to
 * every session, like mosquitto's `persistent_client_expiration`.
 *
 * A session's clock starts when its client disconnects, and at agent start for every session
 * restored from disk (how long it had been away before is not recorded: expiry can only come
 * later than configured, never earlier).
 */

/** The persistence operations expiry needs (MemoryPersistence and DurablePersistence). */
export interface ExpirableSessions {
  /** Client ids that hold a persistent session (subscriptions or queued messages). */
  sessionClients(): Iterable<string>;
  /** Drops everything of the session (durably, for DurablePersistence). */
  expireSession(clientId: string): Promise<void>;
}

export interface SessionExpiryDeps {
  now: () => number;
  onExpired?: (clientId: string, awayMs: number) => void;
  onError?: (clientId: string, err: Error) => void;
}

export class SessionExpiry {
  readonly #sessions: ExpirableSessions;
  readonly #expiryMs: number;
  readonly #deps: SessionExpiryDeps;
  readonly #connected = new Set<string>();
  /** Client id -> when it went away. */
  readonly #awaySince = new Map<string, number>();
  #sweeping = false;

  constructor(sessions: ExpirableSessions, expirySec: number, deps: SessionExpiryDeps) {
    this.#sessions = sessions;
    this.#expiryMs = expirySec * 1000;
    this.#deps = deps;
  }

  connected(clientId: string): void {
    this.#connected.add(clientId);
    this.#awaySince.delete(clientId);
  }

  disconnected(clientId: string): void {
    this.#connected.delete(clientId);
    this.#awaySince.set(clientId, this.#deps.now());
  }

  /** Expires the sessions away longer than the interval; returns how many. */
  async sweep(): Promise<number> {
    if (this.#expiryMs <= 0 || this.#sweeping) return 0;
    this.#sweeping = true;
    try {
      const now = this.#deps.now();
      let n = 0;
      for (const id of [...this.#sessions.sessionClients()]) {
        if (this.#connected.has(id)) continue;
        let since = this.#awaySince.get(id);
        if (since === undefined) this.#awaySince.set(id, (since = now)); // restored from disk
        if (now - since < this.#expiryMs) continue;
        try {
          await this.#sessions.expireSession(id);
          this.#awaySince.delete(id);
          this.#deps.onExpired?.(id, now - since);
          n++;
        } catch (err) {
          this.#deps.onError?.(id, err as Error);
        }
      }
      return n;
    } finally {
      this.#sweeping = false;
    }
  }
}
