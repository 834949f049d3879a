import type { Hal, HalProblem, Reading } from '@edgeflow/hal';

/** One configured sensor as GET /v1/hal/sensors reports it. */
export interface SensorStatus {
  readonly id: string;
  readonly type: string;
  readonly bus: number;
  readonly address: number;
  /** `i2c-<bus>/0x<addr>/<type>`, prefixed `sim:` on the simulator (the readings' source). */
  readonly source: string;
  /** `pending`: not polled yet; `ok`: its last poll gave readings; `failing`: its last poll failed. */
  state: 'pending' | 'ok' | 'failing';
  readonly simulated: boolean;
  readings: number;
  lastReadingAt: number | null;
  lastError: { code: string; message: string; attempts: number; at: number } | null;
}

/** Source string of a configured sensor, as the HAL's poller names it. */
export function sensorSource(s: { type: string; bus: number; address: number }): string {
  return `i2c-${s.bus}/0x${s.address.toString(16)}/${s.type}`;
}

/**
 * Accounts for every configured sensor: whether it answers, and the error it fails with. The
 * cache only holds readings that exist, so a sensor that never answered is only visible here.
 */
export class SensorStatusTracker {
  readonly simulated: boolean;
  readonly board: string;
  readonly #bySource = new Map<string, SensorStatus>();

  constructor(hal: Hal) {
    this.simulated = hal.simWorld !== undefined;
    this.board = hal.board.profile.id;
    for (const s of hal.sensors()) {
      const source = sensorSource(s);
      this.#bySource.set(source, {
        ...s,
        source: this.mark(source),
        state: 'pending',
        simulated: this.simulated,
        readings: 0,
        lastReadingAt: null,
        lastError: null,
      });
    }
  }

  /** The source as served: `sim:` in front of a simulated sensor's, so no one mistakes it. */
  mark(source: string): string {
    return this.simulated ? `sim:${source}` : source;
  }

  onReading(r: Reading): void {
    const s = this.#bySource.get(r.source);
    if (!s || r.quality !== 'good') return;
    s.state = 'ok';
    s.readings++;
    s.lastReadingAt = r.ts;
    s.lastError = null;
  }

  onProblem(p: HalProblem, now: number): void {
    const s = this.#bySource.get(p.source);
    if (!s) return;
    s.state = 'failing';
    s.lastError = { code: p.error.code, message: p.error.message, attempts: p.attempt, at: now };
  }

  /** The GET /v1/hal/sensors body. */
  report(): { board: string; simulated: boolean; sensors: SensorStatus[] } {
    return {
      board: this.board,
      simulated: this.simulated,
      sensors: [...this.#bySource.values()].map((s) => ({ ...s })),
    };
  }
}
