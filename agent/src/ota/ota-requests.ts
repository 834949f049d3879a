import { join } from 'node:path';
import {
  OtaError,
  loadState,
  otaPaths,
  parseInstallCommand,
  readRequestResult,
  redactUrl,
  requestFileSchema,
  type InstallCommand,
  type OtaState,
  type RequestFile,
  type RequestResult,
} from '@edgeflow/ota';
import type { Logger } from 'pino';
import { fileRequestStore, type RequestStore } from './ota-request-store.js';
import {
  TERMINAL,
  deriveStatus,
  type OtaStatus,
  type RequestTimeouts,
} from './ota-request-status.js';

export type { OtaStatus } from './ota-request-status.js';

/** `ota.mqttInstall` and `ota.access.mqttUsers`, plus where things live. */
export interface OtaRequestsOptions {
  /** The agent's data dir; requests go to `<dataDir>/ota/request.json`. */
  dataDir: string;
  /** OTA root (`ota.root`): state and the root-side request result are read from there. */
  otaRoot: string;
  /** MQTT users allowed to request installs; empty = OTA over MQTT is off. */
  users: readonly string[];
  allowHttp: boolean;
  maxBytes: number;
  /** How often a pending request's progress is checked. */
  pollIntervalMs: number;
  timeouts?: RequestTimeouts;
}

/** What the root side wrote, read-only for the agent. Injected for tests. */
export interface OtaSideReader {
  state(): Promise<OtaState | undefined>;
  result(): Promise<RequestResult | undefined>;
}

export interface OtaRequestsDeps {
  log: Logger;
  now: () => number;
  /** Publishes a status on `edgeflow/<device>/ota/status`. */
  publish: (status: OtaStatus) => void;
  store?: RequestStore;
  reader?: OtaSideReader;
}

const REQUEST = 'request.json';
const SEEN = 'seen.json';
/** Ids remembered against replays; older ones are long superseded. */
const SEEN_MAX = 100;
const DEFAULT_TIMEOUTS: RequestTimeouts = { pickupMs: 10 * 60_000, downloadMs: 2 * 3600_000 };

function refusal(id: string | null, code: string, message: string): Omit<OtaStatus, 'at'> {
  return { id, state: 'refused', code, message, version: null };
}

function refused(
  id: string | null,
  code: string,
  message: string,
): { refused: Omit<OtaStatus, 'at'> } {
  return { refused: refusal(id, code, message) };
}

/**
 * The agent's side of OTA installs requested over MQTT. The agent never installs: it validates
 * the command, writes a request file (0600, atomic) that a root-side systemd path unit hands to
 * `edgeflow ota install --request`, then follows the root-side result and the OTA state and
 * publishes each change of state. It keeps following across its own restart into the trial
 * (the request file stays until the request is over).
 */
export class OtaRequests {
  readonly #o: OtaRequestsOptions;
  readonly #deps: OtaRequestsDeps;
  readonly #store: RequestStore;
  readonly #reader: OtaSideReader;
  readonly #timeouts: RequestTimeouts;
  /** Serialises submits and polls (two requests at once must not both pass "none pending"). */
  #chain: Promise<unknown> = Promise.resolve();
  #pending: RequestFile | undefined;
  #last: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(o: OtaRequestsOptions, deps: OtaRequestsDeps) {
    this.#o = o;
    this.#deps = deps;
    this.#timeouts = o.timeouts ?? DEFAULT_TIMEOUTS;
    this.#store = deps.store ?? fileRequestStore(join(o.dataDir, 'ota'));
    const paths = otaPaths({ root: o.otaRoot });
    this.#reader = deps.reader ?? {
      state: () => loadState(paths).catch(() => undefined),
      result: () => readRequestResult(paths),
    };
  }

  /** Picks up a request left pending by the previous run and publishes where it stands. */
  async start(): Promise<void> {
    await this.#serial(async () => {
      this.#pending = await this.#readPending();
    });
    if (this.#pending !== undefined) {
      await this.poll();
      this.#ensureTimer();
    }
  }

  /** Handles `edgeflow/<device>/ota/install`; returns (and publishes) accepted or refused. */
  submit(payload: Uint8Array, user: string | null): Promise<OtaStatus> {
    return this.#serial(async () => {
      const s = await this.#submit(payload, user);
      return this.#publish(s, true);
    });
  }

  /** Checks the pending request's progress; publishes a changed state. */
  poll(): Promise<void> {
    return this.#serial(async () => {
      const req = this.#pending;
      if (req === undefined) return;
      const [result, state] = await Promise.all([this.#reader.result(), this.#reader.state()]);
      const s = deriveStatus(req, result, state, this.#deps.now(), this.#timeouts);
      if (s === undefined) return;
      this.#publish(s, false);
      if (TERMINAL.has(s.state)) {
        await this.#store.remove(REQUEST);
        this.#pending = undefined;
        this.#last = undefined;
      }
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Everything that may refuse a request before anything is written: the payload, the user, the
   * request's fields, a replayed id, a request still pending, a release on trial.
   */
  async #admit(
    payload: Uint8Array,
    user: string | null,
  ): Promise<
    { refused: Omit<OtaStatus, 'at'> } | { cmd: InstallCommand; seen: string[]; user: string }
  > {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      return refused(null, 'EDGEFLOW_OTA_REQUEST_INVALID', 'payload must be a JSON object');
    }
    const rawId = typeof body === 'object' && body !== null && 'id' in body ? body.id : null;
    const id = typeof rawId === 'string' && rawId.length <= 64 ? rawId : null;
    if (user === null) {
      return refused(
        id,
        'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED',
        'commands need an authenticated MQTT user (mqtt.auth.users)',
      );
    }
    if (!this.#o.users.includes(user)) {
      return refused(
        id,
        'EDGEFLOW_OTA_REQUEST_FORBIDDEN',
        `MQTT user ${user} may not request OTA installs (ota.access.mqttUsers)`,
      );
    }
    let cmd;
    try {
      cmd = parseInstallCommand(body, { allowHttp: this.#o.allowHttp, maxBytes: this.#o.maxBytes });
    } catch (err) {
      if (err instanceof OtaError) return refused(id, err.code, err.message);
      throw err;
    }
    const seen = await this.#seen();
    if (seen.includes(cmd.id)) {
      return refused(
        cmd.id,
        'EDGEFLOW_OTA_REQUEST_REPLAYED',
        `request id ${cmd.id} was used before`,
      );
    }
    const pending = this.#pending ?? (await this.#readPending());
    if (pending !== undefined) {
      return refused(
        cmd.id,
        'EDGEFLOW_OTA_REQUEST_PENDING',
        `request ${pending.id} is still in progress`,
      );
    }
    const trial = (await this.#reader.state())?.trial;
    if (trial) {
      return refused(
        cmd.id,
        'EDGEFLOW_OTA_TRIAL_RUNNING',
        `${trial.version} is on trial; wait until it is committed or rolled back`,
      );
    }
    return { cmd, seen, user };
  }

  async #submit(payload: Uint8Array, user: string | null): Promise<Omit<OtaStatus, 'at'>> {
    const admitted = await this.#admit(payload, user);
    if ('refused' in admitted) return admitted.refused;
    const { cmd, seen } = admitted;
    const req: RequestFile = {
      format: 1,
      ...cmd,
      requestedBy: admitted.user,
      requestedAt: new Date(this.#deps.now()).toISOString(),
    };
    try {
      // The id is burned first: a crash in between loses the request, never replays it.
      await this.#store.write(SEEN, JSON.stringify({ ids: [...seen, cmd.id].slice(-SEEN_MAX) }));
      await this.#store.write(REQUEST, `${JSON.stringify(req)}\n`);
    } catch (err) {
      this.#deps.log.error({ event: 'ota.request_write_failed', err }, 'cannot write OTA request');
      return refusal(
        cmd.id,
        'EDGEFLOW_OTA_REQUEST_WRITE_FAILED',
        'the agent could not write the request file',
      );
    }
    this.#pending = req;
    this.#last = undefined;
    this.#deps.log.info(
      {
        event: 'ota.request_accepted',
        id: cmd.id,
        user: admitted.user,
        url: redactUrl(cmd.url),
        version: cmd.version,
      },
      'OTA install request accepted',
    );
    this.#ensureTimer();
    return {
      id: cmd.id,
      state: 'accepted',
      code: null,
      message: `request written for the OTA tool (${redactUrl(cmd.url)})`,
      version: cmd.version ?? null,
    };
  }

  #publish(s: Omit<OtaStatus, 'at'>, always: boolean): OtaStatus {
    const key = `${s.state}|${s.code ?? ''}`;
    const full: OtaStatus = { ...s, at: new Date(this.#deps.now()).toISOString() };
    if (!always && key === this.#last) return full;
    if (s.state !== 'refused') this.#last = key;
    const level = s.state === 'refused' || s.state === 'failed' || s.state === 'rolled-back';
    this.#deps.log[level ? 'warn' : 'info'](
      { event: 'ota.request_status', id: s.id, state: s.state, code: s.code },
      `OTA request ${s.state}`,
    );
    this.#deps.publish(full);
    return full;
  }

  async #readPending(): Promise<RequestFile | undefined> {
    const text = await this.#store.read(REQUEST);
    if (text === undefined) return undefined;
    try {
      return requestFileSchema.parse(JSON.parse(text));
    } catch {
      // Not ours to interpret (hand-edited or from an incompatible release): drop it.
      this.#deps.log.warn({ event: 'ota.request_dropped' }, 'dropping an unreadable OTA request');
      await this.#store.remove(REQUEST);
      return undefined;
    }
  }

  async #seen(): Promise<string[]> {
    try {
      const v = JSON.parse((await this.#store.read(SEEN)) ?? '{"ids":[]}') as { ids?: unknown };
      return Array.isArray(v.ids) ? v.ids.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  #ensureTimer(): void {
    if (this.#timer !== undefined || this.#stopped || this.#o.pollIntervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.poll().catch((err: unknown) =>
        this.#deps.log.warn({ event: 'ota.request_poll_failed', err }, 'OTA request poll failed'),
      );
      if (this.#pending === undefined) this.#clearTimer();
    }, this.#o.pollIntervalMs);
    this.#timer.unref();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }
}
