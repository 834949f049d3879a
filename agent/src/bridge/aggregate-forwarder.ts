import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { atomicWriteFile } from '@edgeflow/core';
import { decodeMessage } from '../ingest/decode.js';
import { isValidSegment, matchSensorTopic } from '../ingest/topic.js';
import type { AggregateRule } from './aggregate-config.js';
import type { AggregateMetrics } from './metrics.js';
import { topicMatches } from './outbox-record.js';
import {
  summaryTopic,
  toSummary,
  WindowAggregator,
  type AggregateReading,
  type WindowState,
} from './window-aggregator.js';

export interface AggregateForwarderDeps {
  log: Logger;
  now: () => number;
  /** `<dataDir>/outbox/aggregate.json`: the open windows at a clean stop, or a crash marker. */
  statePath: string;
  /** `mqtt.sensorPrefix` and `mqtt.maxPayloadBytes`: readings are decoded as ingest does. */
  sensorPrefix: string;
  maxPayloadBytes: number;
  /** Puts a summary into the outbox; resolves once it is on disk. */
  append: (topic: string, payload: Buffer) => Promise<void>;
  metrics?: AggregateMetrics | undefined;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface StateFile {
  version: 1;
  /** false from start to a clean stop: finding it false at start means the agent crashed. */
  clean: boolean;
  windows: (WindowState & { rule: string })[];
}

const ruleId = (r: AggregateRule) => `${r.match} ${r.windowSec}`;

const defaultSetTimer = (fn: () => void, ms: number): unknown => {
  const t = setTimeout(fn, ms);
  t.unref(); // never what keeps the agent alive
  return t;
};
const defaultClearTimer = (h: unknown) => clearTimeout(h as NodeJS.Timeout);

/**
 * `bridge.aggregate`: decodes matching local messages like the ingest pipeline, keeps one
 * {@link WindowAggregator} per rule, and appends one JSON summary per key and closed window to
 * the outbox. Open windows live in memory: a clean stop checkpoints them (and summaries whose
 * append did not finish) to `aggregate.json` and the next start resumes them; after a crash
 * they are gone, and each key's first summary after the restart is marked `partial: true`.
 */
export class AggregateForwarder {
  readonly #deps: AggregateForwarderDeps;
  readonly #aggs: WindowAggregator[];
  readonly #pending = new Set<Promise<void>>();
  /** Closed windows not (yet) in the outbox at stop: saved in the checkpoint. */
  readonly #unsent: (WindowState & { rule: string })[] = [];
  #timer: unknown;
  #timerDue: number | undefined;
  #stopped = false;

  private constructor(rules: readonly AggregateRule[], deps: AggregateForwarderDeps) {
    this.#deps = deps;
    this.#aggs = rules.map((r) => new WindowAggregator(r, (w) => this.#emit(r, w)));
  }

  /** Reads the previous run's state, marks this run as running, emits windows that ended. */
  static async open(
    rules: readonly AggregateRule[],
    deps: AggregateForwarderDeps,
  ): Promise<AggregateForwarder> {
    const self = new AggregateForwarder(rules, deps);
    const prev = await self.#readState();
    if (prev?.clean === true) {
      const byId = new Map(self.#aggs.map((a) => [ruleId(a.rule), a]));
      let dropped = 0;
      for (const { rule, ...w } of prev.windows) {
        const agg = byId.get(rule);
        if (agg === undefined) dropped++;
        else agg.restore(w);
      }
      if (dropped > 0)
        deps.log.warn(
          { event: 'bridge.aggregate_state_dropped', windows: dropped },
          'checkpointed windows of rules no longer configured were dropped',
        );
    } else if (prev !== undefined) {
      for (const a of self.#aggs) a.markUncleanStart();
      deps.log.warn(
        { event: 'bridge.aggregate_unclean_start' },
        'the agent did not stop cleanly: open aggregation windows were lost; each key’s next summary is marked partial',
      );
    }
    await self.#writeState(false, []);
    self.#tick();
    return self;
  }

  get openWindows(): number {
    return this.#aggs.reduce((n, a) => n + a.openWindows, 0);
  }

  /**
   * Takes a local message if an aggregate rule matches its topic (first rule wins): true when
   * taken (it must then not be forwarded raw), false when no rule matches.
   */
  offer(topic: string, payload: Uint8Array): boolean {
    const agg = this.#aggs.find((a) => topicMatches(a.rule.match, topic));
    if (agg === undefined) return false;
    if (this.#stopped) return true;
    const readings = this.#decode(topic, payload);
    if (readings === undefined) return true;
    const now = this.#deps.now();
    for (const [key, r] of readings) agg.add(key, r, now);
    this.#deps.metrics?.readings.inc(readings.length);
    this.#schedule();
    return true;
  }

  /** The same keys and values as the ingest pipeline; undefined (counted) when none. */
  #decode(topic: string, payload: Uint8Array): [string, AggregateReading][] | undefined {
    const m = matchSensorTopic(topic, this.#deps.sensorPrefix);
    if (m.kind !== 'sensor') {
      this.#deps.metrics?.skipped.inc({ reason: 'not_sensor_topic' });
      return undefined;
    }
    const d = decodeMessage(payload, this.#deps.now(), this.#deps.maxPayloadBytes);
    if (!d.ok || d.readings.some((r) => r.name && !isValidSegment(r.name))) {
      // Ingest rejects, counts and dead-letters it too; here it is only not aggregated.
      this.#deps.metrics?.skipped.inc({ reason: 'undecodable' });
      return undefined;
    }
    return d.readings.map((r) => [
      r.name ? `${m.device}/${r.name}` : m.key,
      { value: r.reading.value, unit: r.reading.unit },
    ]);
  }

  #emit(rule: AggregateRule, w: WindowState): void {
    // A local topic, like every outbox record: the sender prepends bridge.topicPrefix.
    const topic = summaryTopic(rule.topic, w.key, rule.windowSec);
    const payload = Buffer.from(JSON.stringify(toSummary(w, rule.stats)));
    const p: Promise<void> = this.#deps.append(topic, payload).then(
      () => {
        this.#deps.metrics?.windows.inc({ partial: String(w.partial) });
      },
      (err: unknown) => {
        // Outbox closed at stop (or a disk error): keep the window for the checkpoint.
        this.#unsent.push({ ...w, rule: ruleId(rule) });
        if (!this.#stopped)
          this.#deps.log.error(
            { event: 'bridge.summary_append_failed', key: w.key, start: w.start, err },
            'a window summary could not be put into the outbox',
          );
      },
    );
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerDue = undefined;
    if (this.#stopped) return;
    const now = this.#deps.now();
    for (const a of this.#aggs) a.flushDue(now);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    let due: number | undefined;
    for (const a of this.#aggs) {
      const d = a.nextDue();
      if (d !== undefined && (due === undefined || d < due)) due = d;
    }
    if (due === undefined || due === this.#timerDue) return;
    if (this.#timer !== undefined) (this.#deps.clearTimer ?? defaultClearTimer)(this.#timer);
    this.#timerDue = due;
    this.#timer = (this.#deps.setTimer ?? defaultSetTimer)(
      () => this.#tick(),
      Math.max(1, due - this.#deps.now()),
    );
  }

  /** Stops the timer and emits the windows that have ended; later offers are ignored. */
  stop(): void {
    if (this.#stopped) return;
    const now = this.#deps.now();
    for (const a of this.#aggs) a.flushDue(now);
    this.#stopped = true;
    if (this.#timer !== undefined) (this.#deps.clearTimer ?? defaultClearTimer)(this.#timer);
    this.#timer = undefined;
  }

  /**
   * After the outbox closed: saves the open windows and the summaries that did not reach the
   * outbox, marked clean, for the next start.
   */
  async checkpoint(): Promise<void> {
    this.stop();
    await Promise.allSettled([...this.#pending]);
    const windows = this.#aggs.flatMap((a) =>
      a.snapshot().map((w) => ({ ...w, rule: ruleId(a.rule) })),
    );
    await this.#writeState(true, [...this.#unsent, ...windows]);
  }

  async #readState(): Promise<StateFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.#deps.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const s = JSON.parse(text) as StateFile;
      if (s.version === 1 && typeof s.clean === 'boolean' && Array.isArray(s.windows)) return s;
    } catch {
      // fall through: treated like a crash (nothing restored, current windows partial)
    }
    return { version: 1, clean: false, windows: [] };
  }

  #writeState(clean: boolean, windows: StateFile['windows']): Promise<void> {
    const s: StateFile = { version: 1, clean, windows };
    return atomicWriteFile(this.#deps.statePath, JSON.stringify(s), { createDir: true });
  }
}
