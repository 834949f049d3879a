import type { MessagePort } from 'node:worker_threads';
import type { AgentConfig } from '../../config/schema.js';
import type { SessionApi, SubsChange } from '../../broker/cluster/session-api.js';
import type { SubscriptionRec } from '../../wal/records.js';
import type { LogBatch } from './worker-log.js';

/** What the main thread gives an ingest worker at start (workerData). */
export interface WorkerInit {
  index: number;
  workers: number;
  config: AgentConfig;
  /** The sensor cache's SharedArrayBuffer (SensorCache). */
  cache: SharedArrayBuffer;
  /** The workers' counters (SharedCounters); this worker writes row `index`. */
  counters: SharedArrayBuffer;
  /** The brokers' violation log window, shared so that a kind is logged once per agent. */
  violationLog: SharedArrayBuffer;
  /** The ingest pipelines' reject log window, shared so that a reason is logged once per agent. */
  rejectLog: SharedArrayBuffer;
  /** Incoming QoS 2 ids held by all workers together (one Int32, for mqtt.limits.maxInflightTotal). */
  inflightTotal: SharedArrayBuffer;
  /** One MessagePort per other worker, in worker order (this worker's own slot left out). */
  peers: MessagePort[];
  /** The MQTT port (and TLS port) to bind with SO_REUSEPORT; 0 for the first worker: any. */
  port: number;
  tlsPort: number | undefined;
  /** The persistent subscriptions when the worker starts (its replica). */
  subs: [string, SubscriptionRec[]][];
  /** Subscription changes broadcast so far (one Int32, raised by the main thread) ... */
  subsEpoch: SharedArrayBuffer;
  /** ... and its value when `subs` was taken. */
  subsEpochAt: number;
  /** This gateway's topic level: commands (`edgeflow/<device>/...`) go to the main thread. */
  device: string;
  logLevel: string;
  /** Test hook (AgentDeps.ingestWorkerPauseMidRecordMs). */
  pauseMidRecordMs?: number;
}

/** What a worker tells the main thread once it listens. */
export interface WorkerReady {
  port: number;
  tlsPort: number | undefined;
}

/** Calls and notes the main thread serves a worker (besides the session API). */
export interface MainApi extends SessionApi {
  /** A batch of encoded log records (the buffer is transferred). */
  log(batch: LogBatch): void;
  /** Client `c` disconnected from this worker; its committed incoming ids. */
  park(c: string, seq: number, ids: [number, string][]): void;
  /** A command message (`edgeflow/<device>/...`) for the main thread's command handler. */
  command(topic: string, payload: Uint8Array, clientId: string, user: string | null): void;
  /** A message for the upstream bridge's outbox (resolves once it is in; false: not bridged). */
  offer(topic: string, payload: Uint8Array): Promise<boolean>;
  /** One log line of the worker (pino JSON), written by the main thread's logger. */
  logLine(line: string): void;
  /** The worker loaded and waits for `listen`. */
  prepared(): void;
}

/** Calls and notes a worker serves the main thread. */
export interface WorkerApi {
  [method: string]: (...args: never[]) => unknown;
  /** The next `n` records the worker sent are durable. */
  committed(n: number): void;
  /** The next `n` records the worker sent could not be made durable. */
  failed(n: number, message: string, code: string | undefined): void;
  /** Let client `c` go (another worker claims it): close, settle its records, hand back its ids. */
  release(c: string): Promise<[number, string][]>;
  /** A change of the persistent subscriptions (for the replica). */
  subs(change: SubsChange): Promise<void>;
  /**
   * A checkpoint's cut: every acknowledgement sent before this was handled (readings in the
   * cache), so the answer is the committed incoming ids of the clients served here.
   */
  cut(): [string, [number, string][]][];
  /** Publishes from inside the agent (QoS 0; retained when asked). */
  publish(topic: string, payload: Uint8Array, retain: boolean): void;
  /**
   * Starts the broker on `port` (0 for the first worker: any) with SO_REUSEPORT and listens;
   * the ports it listens on. Rejects with the start error (EDGEFLOW_LISTEN_FAILED, ...).
   */
  listen(port: number, tlsPort: number | undefined): Promise<WorkerReady>;
  /**
   * Graceful stop: close the listeners and clients, let in-flight records finish; the
   * committed incoming ids of the clients it served (the main thread keeps them).
   */
  stop(): Promise<[string, [number, string][]][]>;
}
