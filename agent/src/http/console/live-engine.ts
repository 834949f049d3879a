import type { GpioEdge, Hal } from '@edgeflow/hal';
import type { Logger } from 'pino';
import type { Reading } from '../../cache/reading.js';
import type { AgentMetrics } from '../../metrics/metrics.js';
import { HistorySampler } from '../../metrics/history-sampler.js';
import { StreamHub, type Topic } from './event-stream.js';
import {
  STREAM_EVENT_MAX_READINGS,
  SensorWatch,
  toTuple,
  type CacheReader,
} from './sensor-watch.js';

/** An input edge as the GPIO page gets it (the kernel's ns timestamp stays in the MQTT event). */
interface EdgeView {
  readonly name: string;
  readonly edge: 'rising' | 'falling';
  readonly value: 0 | 1;
  readonly ts: number;
}

/** Edges kept for a GPIO page that opens later. */
const EDGE_MEMORY = 50;

/** The GPIO lines and their edges as the stream sends them (only changes, and new edges). */
class GpioFeed {
  readonly #hal: Hal | undefined;
  readonly #edges: EdgeView[] = [];
  #pending: EdgeView[] = [];
  #last = '';
  readonly #onEdge = (e: GpioEdge) => {
    const v: EdgeView = { name: e.name, edge: e.edge, value: e.value, ts: e.ts };
    this.#edges.push(v);
    if (this.#edges.length > EDGE_MEMORY) this.#edges.shift();
    this.#pending.push(v);
    if (this.#pending.length > EDGE_MEMORY) this.#pending.shift();
  };

  constructor(hal: Hal | undefined) {
    this.#hal = hal;
    hal?.on('edge', this.#onEdge);
  }

  #state() {
    return { board: this.#hal?.board.profile.id, lines: this.#hal?.gpio() ?? [] };
  }

  /** The first event of a new GPIO stream: lines and the recent edges, newest first. */
  initial(): string {
    this.#pending = [];
    return JSON.stringify({ ...this.#state(), edges: this.#edges.slice(-20).reverse() });
  }

  /** An event when a line changed or an edge came since the last call; else undefined. */
  next(): string | undefined {
    const state = this.#state();
    const lines = JSON.stringify(state.lines);
    const edges = this.#pending.reverse();
    this.#pending = [];
    if (lines === this.#last && edges.length === 0) return undefined;
    this.#last = lines;
    return JSON.stringify({ ...state, edges });
  }

  stop(): void {
    this.#hal?.off('edge', this.#onEdge);
  }
}

/** A tick's changed readings as `sensors` events of at most STREAM_EVENT_MAX_READINGS each. */
function* parts(changed: readonly Reading[]): Generator<string> {
  for (let i = 0; i < changed.length; i += STREAM_EVENT_MAX_READINGS)
    yield JSON.stringify({ changed: changed.slice(i, i + STREAM_EVENT_MAX_READINGS).map(toTuple) });
}

export interface LiveEngineOptions {
  readonly cache: CacheReader;
  readonly metrics: AgentMetrics;
  readonly dataDir: string;
  readonly hal: Hal | undefined;
  readonly log: Logger;
  readonly now: () => number;
  readonly maxStreams: number;
  /** Default 250 ms; the health sample is taken every 4th tick. */
  readonly tickMs?: number;
}

/**
 * The console's live side on one timer: every tick (250 ms) it scans the cache for changes
 * while a Sensors page is open and sends GPIO changes while a GPIO page is open; every fourth
 * tick (1 s) it scans anyway (sparklines, reading delays) and takes the health sample.
 */
export class LiveEngine {
  readonly watch: SensorWatch;
  readonly sampler: HistorySampler;
  readonly hub: StreamHub;
  readonly #gpio: GpioFeed;
  readonly #timer: NodeJS.Timeout;
  #tick = 0;

  constructor(o: LiveEngineOptions) {
    const watch = new SensorWatch(o.cache);
    const gpio = new GpioFeed(o.hal);
    this.watch = watch;
    this.#gpio = gpio;
    this.sampler = new HistorySampler(
      {
        metrics: o.metrics,
        dataDir: o.dataDir,
        drainDelays: () => watch.drainDelays(),
        now: o.now,
        log: o.log,
      },
      { capacity: 3600, intervalMs: 1000 },
    );
    this.hub = new StreamHub({
      maxStreams: o.maxStreams,
      heartbeatMs: 15_000,
      log: o.log,
      now: o.now,
      initial: (topics: ReadonlySet<Topic>) => [
        ...(topics.has('sensors')
          ? [{ event: 'snapshot', data: JSON.stringify(watch.snapshot()) }]
          : []),
        ...(topics.has('gpio') ? [{ event: 'gpio', data: gpio.initial() }] : []),
      ],
    });
    this.#timer = setInterval(() => this.#everyTick(), o.tickMs ?? 250);
    this.#timer.unref();
  }

  #everyTick(): void {
    const second = this.#tick++ % 4 === 0;
    const hub = this.hub;
    const streaming = hub.has('sensors');
    if (streaming || second) {
      const changed = this.watch.scan();
      // In events of a bounded size, built one at a time as they are written: no event grows
      // with the cache (the first scan after a start finds every sensor changed), and a client
      // more than 4 MiB behind is cut off and starts again from a snapshot.
      if (streaming && changed.length > 0) hub.sendAll('sensors', 'sensors', parts(changed));
    }
    if (hub.has('gpio')) {
      const g = this.#gpio.next();
      if (g !== undefined) hub.send('gpio', 'gpio', g);
    }
    if (second)
      void this.sampler.sample().then((s) => {
        if (s !== undefined && hub.has('samples')) hub.send('samples', 'sample', JSON.stringify(s));
      });
  }

  /** Ends the streams (before the server waits for open requests). */
  closeStreams(): void {
    this.hub.closeAll();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sampler.stop();
    this.#gpio.stop();
  }
}
