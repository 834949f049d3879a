import { readFile } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { EdgeReadyError } from '../errors.js';
import { LatencyHistogram } from './histogram.js';

/** Per-key publish counters (a key is `<device>/<sensor>`). */
export interface KeyCounters {
  /** Highest counter sent (= messages handed to the client for this key). */
  sent: number;
  /** PUBCOMPs received. */
  acked: number;
}

/** Options of the QoS 2 load of one segment. */
export interface MqttLoadOptions {
  readonly url: string;
  /** Device-name prefix unique to the run and segment (`er<run>s<seg>`). */
  readonly devicePrefix: string;
  readonly publishers: number;
  readonly keysPerPublisher: number;
  /** Messages per second, all publishers together. */
  readonly rate: number;
  /** Unacknowledged publishes allowed per publisher before the load backs off. */
  readonly maxInflight: number;
  /** Stop after this many messages (functional mode); unlimited when undefined. */
  readonly limit?: number;
  /** MQTT user name; the password is read from `passwordFile` (never from options or argv). */
  readonly username?: string;
  readonly passwordFile?: string;
  /** How long a connection or the ACL probe may take, ms. */
  readonly connectTimeoutMs?: number;
}

/** CONNACK return codes (3.1.1) and reason codes (5) that mean "not allowed in". */
const REFUSED = new Set([4, 5, 134, 135]);

/** A named error for a publisher that cannot connect (network, or refused by the broker). */
export function connectError(url: string, user: string | undefined, e: unknown): EdgeReadyError {
  const err = e as { code?: unknown; message?: string };
  const msg = err.message ?? String(e);
  if (typeof err.code === 'number' && REFUSED.has(err.code))
    return new EdgeReadyError(
      'EDGEFLOW_ER_MQTT_REFUSED',
      `the broker at ${url} refused the suite's connection${user ? ` as user "${user}"` : ' (anonymous)'}: ${msg}. Pass --mqtt-username and --mqtt-password-file of a user the agent accepts (mqtt.auth.users)`,
      { cause: e },
    );
  return new EdgeReadyError(
    'EDGEFLOW_ER_MQTT_CONNECT',
    `cannot connect to the broker at ${url}: ${msg}. Check --mqtt-url and that the agent's broker listens there`,
    { cause: e },
  );
}

async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n')[0] ?? '';
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      `--mqtt-password-file ${file}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Injected world. */
export interface MqttLoadDeps {
  readonly connect: (url: string, opts: mqtt.IClientOptions) => MqttClient;
  readonly now: () => number;
  readonly hrNow: () => number;
}

const defaultDeps: MqttLoadDeps = {
  connect: (url, opts) => mqtt.connect(url, opts),
  now: Date.now,
  hrNow: () => performance.now(),
};

interface Pub {
  client: MqttClient;
  keys: string[];
  next: number;
  inflight: number;
}

/**
 * QoS 2 publishers at a fixed total rate. Each key gets a counter payload `{"v": n, "t": ms}`
 * (n = 1, 2, …; t strictly increasing) so the agent's `seq` and served value can be compared
 * with what was sent and acknowledged: exactly-once is judged on counts of every message.
 */
export class MqttLoad {
  readonly opts: MqttLoadOptions;
  readonly keys: Record<string, KeyCounters> = {};
  /** publish→PUBCOMP latency of every message of this segment. */
  readonly latency = new LatencyHistogram();
  /** Latencies since the last {@link takeWindow} (for the per-sample p99). */
  #window: number[] = [];
  #windowAcked = 0;
  errors = 0;
  lastError: string | undefined;
  backpressure = 0;
  reconnects = 0;
  readonly #deps: MqttLoadDeps;
  readonly #pubs: Pub[] = [];
  readonly #lastTs = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #started = 0;
  #due = 0;
  #sentTotal = 0;

  constructor(opts: MqttLoadOptions, deps: MqttLoadDeps = defaultDeps) {
    this.opts = opts;
    this.#deps = deps;
  }

  get sentTotal(): number {
    return this.#sentTotal;
  }
  get ackedTotal(): number {
    return Object.values(this.keys).reduce((a, k) => a + k.acked, 0);
  }
  get inflight(): number {
    return this.#pubs.reduce((a, p) => a + p.inflight, 0);
  }
  get done(): boolean {
    return this.opts.limit !== undefined && this.#sentTotal >= this.opts.limit;
  }

  /**
   * Connects every publisher (waits for CONNACK), checks with one QoS 2 probe per publisher that
   * the broker's ACL lets it publish its topics, then starts publishing. A refused connection,
   * an unreachable broker or a refused topic is a named error (the run's report says which).
   */
  async start(): Promise<void> {
    const o = this.opts;
    const password = o.passwordFile === undefined ? undefined : await readPassword(o.passwordFile);
    const timeout = o.connectTimeoutMs ?? 15_000;
    try {
      for (let p = 0; p < o.publishers; p++) {
        const device = `${o.devicePrefix}p${p}`;
        const client = this.#deps.connect(o.url, {
          clientId: `edgeready-${device}`,
          clean: true,
          protocolVersion: 4,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
          ...(o.username === undefined ? {} : { username: o.username }),
          ...(password === undefined ? {} : { password }),
        });
        client.on('reconnect', () => this.reconnects++);
        client.on('error', (e) => (this.lastError = e.message));
        const keys = Array.from({ length: o.keysPerPublisher }, (_, k) => `${device}/k${k}`);
        for (const k of keys) this.keys[k] = { sent: 0, acked: 0 };
        this.#pubs.push({ client, keys, next: 0, inflight: 0 });
        await connected(client, timeout).catch((e: unknown) => {
          throw connectError(o.url, o.username, e);
        });
        await aclProbe(client, `sensors/${device}/acl-probe`, timeout, o.username);
      }
    } catch (e) {
      await Promise.all(this.#pubs.map((p) => p.client.endAsync(true).catch(() => undefined)));
      throw e;
    }
    this.#started = this.#deps.hrNow();
    this.#timer = setInterval(() => this.#tick(), 20);
  }

  #tick(): void {
    const elapsed = (this.#deps.hrNow() - this.#started) / 1000;
    const target = Math.floor(elapsed * this.opts.rate);
    let want = target - this.#due;
    this.#due = target;
    let p = 0;
    let idle = 0;
    while (want > 0 && !this.done && idle < this.#pubs.length) {
      const pub = this.#pubs[p % this.#pubs.length];
      p++;
      if (!pub || pub.inflight >= this.opts.maxInflight || !pub.client.connected) {
        idle++;
        continue;
      }
      idle = 0;
      this.#publish(pub);
      want--;
    }
    if (want > 0) this.backpressure += want;
  }

  #publish(pub: Pub): void {
    const key = pub.keys[pub.next % pub.keys.length] ?? '';
    pub.next++;
    const c = this.keys[key];
    if (!c) return;
    c.sent++;
    this.#sentTotal++;
    const t = Math.max(this.#deps.now(), (this.#lastTs.get(key) ?? 0) + 1);
    this.#lastTs.set(key, t);
    pub.inflight++;
    const t0 = this.#deps.hrNow();
    pub.client.publish(`sensors/${key}`, JSON.stringify({ v: c.sent, t }), { qos: 2 }, (err) => {
      pub.inflight--;
      if (err) {
        this.errors++;
        this.lastError = err.message;
        return;
      }
      const ms = this.#deps.hrNow() - t0;
      c.acked++;
      this.#windowAcked++;
      this.latency.record(ms);
      this.#window.push(ms);
    });
  }

  /** Latencies and PUBCOMPs since the previous call. */
  takeWindow(): { latencies: number[]; acked: number } {
    const w = { latencies: this.#window, acked: this.#windowAcked };
    this.#window = [];
    this.#windowAcked = 0;
    return w;
  }

  /** Stops publishing, waits up to `drainMs` for in-flight PUBCOMPs, disconnects. */
  async stop(drainMs = 15_000): Promise<{ drained: boolean }> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const deadline = this.#deps.hrNow() + drainMs;
    while (this.inflight > 0 && this.#deps.hrNow() < deadline) {
      await new Promise((r) => setTimeout(r, 50)); // waiting for PUBCOMPs from the broker
    }
    const drained = this.inflight === 0;
    await Promise.all(this.#pubs.map((p) => p.client.endAsync(!drained).catch(() => undefined)));
    return { drained };
  }
}

function connected(client: MqttClient, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no CONNACK within ${ms} ms`)), ms);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    client.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * One QoS 2 publish to the publisher's own topic space. MQTT 3.1.1 has no negative
 * acknowledgement: a broker whose ACL refuses a publish closes the connection instead
 * ([MQTT-3.3.5-2]), which this probe reports as EDGEFLOW_ER_MQTT_ACL.
 */
function aclProbe(
  client: MqttClient,
  topic: string,
  ms: number,
  user: string | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const refused = (why: string): void => {
      clearTimeout(timer);
      client.off('close', onClose);
      reject(
        new EdgeReadyError(
          'EDGEFLOW_ER_MQTT_ACL',
          `the broker ${why} on a QoS 2 publish to ${topic}: the ACL of ${user ? `user "${user}"` : 'anonymous clients'} does not let the suite publish to sensors/<device>/<sensor> (grant publish on sensors/#, or pass another --mqtt-username)`,
        ),
      );
    };
    const onClose = (): void => refused('closed the connection');
    const timer = setTimeout(() => refused(`sent no PUBCOMP within ${ms} ms`), ms);
    client.once('close', onClose);
    client.publish(topic, '0', { qos: 2 }, (err) => {
      clearTimeout(timer);
      client.off('close', onClose);
      if (err) refused(`answered ${err.message}`);
      else resolve();
    });
  });
}
