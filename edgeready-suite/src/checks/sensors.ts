import type { AgentReading } from '../agent/agent-http.js';
import { check, fail, passUnless, skip, type Outcome } from './types.js';

/** One configured sensor as the agent reports it (GET /v1/hal/sensors). */
export interface AgentSensor {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly state: 'ok' | 'failing' | 'pending';
  readonly simulated: boolean;
  readonly readings: number;
  readonly lastError: { code: string; message: string; attempts: number } | null;
}

interface SensorsRaw {
  /** The agent's list of configured sensors, or why it could not be read. */
  readonly configured: { simulated: boolean; sensors: AgentSensor[] } | { error: string };
  readonly readings: Pick<AgentReading, 'key' | 'value' | 'unit' | 'quality' | 'seq' | 'source'>[];
  /** seq per key at the previous round (a key must advance between rounds). */
  readonly previous: Record<string, number>;
}

/**
 * ER-HW-SENSORS: every sensor the agent is configured to poll is accounted for: answering
 * (good readings whose seq advances between rounds) or failing with the HAL's error. Readings
 * alone cannot show a sensor that never answered: the agent's own list can.
 */
export const sensorsCheck = check<SensorsRaw>({
  collect: async (ctx) => {
    let configured: SensorsRaw['configured'];
    try {
      configured = await ctx.agent.json<{ simulated: boolean; sensors: AgentSensor[] }>(
        '/v1/hal/sensors',
      );
    } catch (e) {
      configured = { error: (e as Error).message };
    }
    const readings = (await ctx.agent.sensors(ctx.opts.halPrefix))
      .filter((r) => !r.source.startsWith('gpio/'))
      .map((r) => ({
        key: r.key,
        value: r.value,
        unit: r.unit,
        quality: r.quality,
        seq: r.seq,
        source: r.source,
      }));
    const previous = { ...ctx.state.sensorSeq };
    for (const r of readings) ctx.state.sensorSeq[r.key] = r.seq;
    return { configured, readings, previous };
  },
  judge: ({ raw }): Outcome => {
    if ('error' in raw.configured)
      return fail(
        `the agent does not list its configured sensors (GET /v1/hal/sensors): ${raw.configured.error}`,
        { readings: raw.readings },
      );
    const sensors = raw.configured.sensors;
    if (sensors.length === 0) return skip('the agent is configured with no on-board sensor');
    const problems: string[] = [];
    const perSensor = sensors.map((s) => {
      const own = raw.readings.filter((r) => r.source === s.source);
      const notGood = own.filter((r) => r.quality !== 'good').map((r) => r.key);
      const stuck = own
        .filter((r) => raw.previous[r.key] !== undefined && r.seq <= (raw.previous[r.key] ?? 0))
        .map((r) => r.key);
      let status: string;
      if (s.state === 'failing' || s.lastError)
        status = `failing: ${s.lastError?.code ?? '?'} ${s.lastError?.message ?? ''} (attempt ${s.lastError?.attempts ?? '?'})`;
      else if (own.length === 0) status = 'no reading served';
      else if (notGood.length > 0) status = `not good: ${notGood.join(', ')}`;
      else if (stuck.length > 0)
        status = `did not advance since the previous round: ${stuck.join(', ')}`;
      else status = 'ok';
      if (status !== 'ok') problems.push(`${s.id} (${s.type} at ${s.source}) ${status}`);
      return { id: s.id, type: s.type, source: s.source, status, keys: own.map((r) => r.key) };
    });
    const ev = { sensors: perSensor, readings: raw.readings };
    if (problems.length > 0)
      return fail(
        `${problems.length} of ${sensors.length} sensor(s) not answering: ${problems.join('; ')}`,
        ev,
      );
    const sim = raw.configured.simulated || sensors.some((s) => s.simulated);
    return passUnless(
      sim ? 'the agent serves simulated sensors (simulator board), not hardware' : undefined,
      `${sensors.length} configured sensor(s), ${raw.readings.length} readings, all good and advancing`,
      ev,
    );
  },
});
