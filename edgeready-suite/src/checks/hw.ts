import { createHal, type DetectedBoard } from '@edgeflow/hal';
import type { AgentReading } from '../agent/agent-http.js';
import { LOOP_CYCLES, exerciseLoop, loopNames, loopPairs } from './gpio-loopback.js';
import { fail, pass, skip, type CheckContext, type CheckImpl } from './types.js';

function boardEvidence(b: DetectedBoard): Record<string, unknown> {
  return {
    profile: b.profile.id,
    name: b.profile.name,
    matchedBy: b.matchedBy,
    model: b.model ?? null,
    compatible: b.compatible,
    chips: b.chips.map((c) => ({ label: c.label, lines: c.lines })),
    i2c: b.i2c.map((a) => ({ bus: a.bus, name: a.name ?? null })),
    gpioBackend: b.gpioBackend,
    missing: b.missing,
    coprocessor: b.coprocessor
      ? {
          mcu: b.coprocessor.mcu,
          usb: `${b.coprocessor.usb.vid}:${b.coprocessor.usb.pid}`,
          device: b.coprocessor.device,
        }
      : null,
  };
}

/** ER-HW-BOARD */
export const boardCheck: CheckImpl = async (ctx) => {
  const b = await ctx.board();
  let agentBoard: string;
  try {
    agentBoard = (await ctx.agent.json<{ board: string }>('/v1/gpio')).board;
  } catch (e) {
    return fail(
      `the agent does not answer GET /v1/gpio: ${(e as Error).message}`,
      boardEvidence(b),
    );
  }
  const ev = { ...boardEvidence(b), agentBoard };
  if (b.profile.id === 'generic')
    return fail('no board profile matches this host (generic Linux)', ev);
  if (b.missing.length > 0)
    return fail(
      `the ${b.profile.id} profile expects what is missing: ${b.missing.map((m) => `${m.what} (${m.why})`).join('; ')}`,
      ev,
    );
  if (agentBoard !== b.profile.id)
    return fail(
      `the agent runs as board "${agentBoard}", the suite detected "${b.profile.id}"`,
      ev,
    );
  return pass(`${b.profile.name} (${b.profile.id}, ${b.matchedBy}); agent agrees`, ev);
};

/** Header pins the agent itself holds (GET /v1/gpio names and sources `gpio/<chip>:<line>`). */
async function agentLines(ctx: CheckContext): Promise<Set<string>> {
  const held = new Set<string>();
  try {
    const g = await ctx.agent.json<{ lines: { source: string }[] }>('/v1/gpio');
    for (const l of g.lines) held.add(l.source.replace(/^gpio\//, ''));
  } catch {
    /* reported by ER-HW-BOARD */
  }
  return held;
}

/** ER-HW-GPIO */
export const gpioCheck: CheckImpl = async (ctx) => {
  const b = await ctx.board();
  const pins = b.header.filter((h) => h.present);
  if (b.gpioBackend === 'none' || pins.length === 0)
    return skip(`no header GPIO on this host (${b.gpioBackend}, ${pins.length} present pins)`);
  const held = await agentLines(ctx);
  const pairs = loopPairs(ctx.opts.gpioLoopback, b.profile);
  const loop = new Set(pairs.flatMap((p) => [p.out, p.in]));
  const probe = pins.filter((p) => !held.has(`${p.chip}:${p.line}`) && !loop.has(String(p.pin)));
  const hal = await createHal(
    {
      board: ctx.opts.board === 'auto' ? 'auto' : ctx.opts.board,
      root: ctx.opts.root,
      demo: false,
      fallbackToSim: false,
      gpio: [
        ...probe.map((p) => ({ name: `er-pin${p.pin}`, pin: p.pin, direction: 'input' as const })),
        ...pairs.flatMap((p, i) => [
          { name: loopNames(i).out, pin: p.out, direction: 'output' as const, initial: 0 as const },
          { name: loopNames(i).in, pin: p.in, direction: 'input' as const, edge: 'both' as const },
        ]),
      ],
    },
    ctx.halDeps ?? {},
  );
  const problems: string[] = [];
  hal.on('problem', (p) => problems.push(`${p.source}: ${p.error.code} ${p.error.message}`));
  const loops: Record<string, unknown>[] = [];
  try {
    await hal.start();
    // On a co-processor board (LattePanda) one process holds the serial link: while the agent
    // uses it, this check cannot drive the header and says so instead of failing the board.
    if (problems.length > 0 && problems.every((p) => p.includes('EDGEFLOW_HAL_SERIAL_BUSY')))
      return skip(
        `cannot judge: the agent holds the co-processor's serial link (${b.coprocessor?.device ?? 'Firmata'}), so the header cannot be driven from here; ER-HW-SENSORS judges its I2C through the agent's readings`,
        { problems },
      );
    const requested = hal.gpio().length;
    for (const [i, pair] of pairs.entries()) {
      const r = await exerciseLoop(hal, pair, i);
      loops.push(r.evidence);
      if (r.problem !== undefined) problems.push(r.problem);
    }
    const ev = {
      requested,
      probed: probe.map((p) => p.pin),
      heldByAgent: [...held],
      loopback: loops,
      problems,
    };
    if (problems.length > 0) return fail(`${problems.length} GPIO problem(s): ${problems[0]}`, ev);
    const looped = pairs.map((p) => `${p.out}->${p.in} (${p.declaredBy})`).join(', ');
    return pass(
      `${probe.length} header lines requested and released${pairs.length ? `; loopback ${looped}: ${LOOP_CYCLES} high/low cycles read back with one edge per write` : '; no jumper declared (--gpio-loopback OUT:IN)'}`,
      ev,
    );
  } finally {
    await hal.stop();
  }
};

/** ER-HW-I2C */
export const i2cCheck: CheckImpl = async (ctx) => {
  const b = await ctx.board();
  if (b.profile.i2c.length === 0) return skip(`the ${b.profile.id} profile routes no I2C bus`);
  // Optional buses (the Pi's HAT EEPROM bus) are off on stock images and carry no sensors. A
  // co-processor's bus (LattePanda: Firmata I2C) is there when the co-processor is on USB.
  const there = (x: (typeof b.profile.i2c)[number]): boolean =>
    x.via === 'firmata' ? b.coprocessor !== undefined : b.i2c.some((a) => a.bus === x.bus);
  const absent = b.profile.i2c.filter((x) => !x.optional && !there(x));
  const where = (x: (typeof b.profile.i2c)[number]): string =>
    x.via === 'firmata'
      ? `bus ${x.bus} (Firmata I2C of the ${b.profile.coprocessor?.mcu ?? 'co-processor'})`
      : `/dev/i2c-${x.bus}`;
  const ev = {
    expected: b.profile.i2c.map((x) => ({ name: x.name, bus: x.bus, pins: x.pins })),
    detected: b.i2c.map((a) => ({ bus: a.bus, devPath: a.devPath, name: a.name ?? null })),
  };
  if (absent.length > 0)
    return fail(
      `absent: ${absent.map((x) => `${x.name} (${where(x)}${x.enable ? `, enable with ${x.enable}` : ''})`).join(', ')}`,
      ev,
    );
  return pass(`${b.profile.i2c.map(where).join(', ')} present`, ev);
};

/** ER-HW-SENSORS: the agent's HAL readings are good and advancing. */
export const sensorsCheck: CheckImpl = async (ctx) => {
  const readings: AgentReading[] = await ctx.agent.sensors(ctx.opts.halPrefix);
  const sensors = readings.filter((r) => !r.source.startsWith('gpio/'));
  if (sensors.length === 0)
    return skip(`the agent serves no reading under "${ctx.opts.halPrefix}"`);
  const bad = sensors.filter((r) => r.quality !== 'good');
  const stuck = sensors.filter((r) => {
    const before = ctx.state.sensorSeq[r.key];
    return before !== undefined && r.seq <= before;
  });
  for (const r of sensors) ctx.state.sensorSeq[r.key] = r.seq;
  const ev = {
    readings: sensors.map((r) => ({
      key: r.key,
      value: r.value,
      unit: r.unit,
      quality: r.quality,
      seq: r.seq,
      source: r.source,
    })),
    notGood: bad.map((r) => r.key),
    notAdvancing: stuck.map((r) => r.key),
  };
  if (bad.length > 0)
    return fail(`${bad.length} reading(s) not good: ${bad.map((r) => r.key).join(', ')}`, ev);
  if (stuck.length > 0)
    return fail(
      `${stuck.length} sensor key(s) did not advance since the previous round: ${stuck.map((r) => r.key).join(', ')}`,
      ev,
    );
  const srcs = new Set(sensors.map((r) => r.source));
  return pass(`${sensors.length} readings from ${srcs.size} sensor(s), all good and advancing`, ev);
};
