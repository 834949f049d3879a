import { createHal, type DetectedBoard } from '@edgeflow/hal';
import { LOOP_CYCLES, exerciseLoop, loopNames, loopPairs } from './gpio-loopback.js';
import { fixtureRoot } from './res.js';
import { check, fail, passUnless, skip, type CheckContext, type Outcome } from './types.js';

/** Why a board's results are not a real board's, or undefined. */
export function simulatedBoard(profile: string): string | undefined {
  return profile === 'sim' ? 'simulator board: no hardware was tested' : undefined;
}

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

interface BoardRaw {
  readonly board: ReturnType<typeof boardEvidence> & {
    profile: string;
    name: string;
    matchedBy: string;
  };
  readonly missing: { what: string; why: string }[];
  readonly agentBoard: string | null;
  readonly agentError: string | null;
}

/** ER-HW-BOARD */
export const boardCheck = check<BoardRaw>({
  collect: async (ctx) => {
    const b = await ctx.board();
    let agentBoard: string | null = null;
    let agentError: string | null = null;
    try {
      agentBoard = (await ctx.agent.json<{ board: string }>('/v1/gpio')).board;
    } catch (e) {
      agentError = (e as Error).message;
    }
    return {
      board: boardEvidence(b) as BoardRaw['board'],
      missing: b.missing.map((m) => ({ what: m.what, why: m.why })),
      agentBoard,
      agentError,
    };
  },
  judge: ({ raw }): Outcome => {
    const b = raw.board;
    const ev = { ...b, agentBoard: raw.agentBoard };
    if (raw.agentError !== null)
      return fail(`the agent does not answer GET /v1/gpio: ${raw.agentError}`, ev);
    if (b.profile === 'generic')
      return fail('no board profile matches this host (generic Linux)', ev);
    if (raw.missing.length > 0)
      return fail(
        `the ${b.profile} profile expects what is missing: ${raw.missing.map((m) => `${m.what} (${m.why})`).join('; ')}`,
        ev,
      );
    if (raw.agentBoard !== b.profile)
      return fail(
        `the agent runs as board "${String(raw.agentBoard)}", the suite detected "${b.profile}"`,
        ev,
      );
    return passUnless(
      simulatedBoard(b.profile),
      `${b.name} (${b.profile}, ${b.matchedBy}); agent agrees`,
      ev,
    );
  },
});

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

interface GpioRaw {
  readonly profile: string;
  /** The co-processor's serial device (LattePanda: Firmata over USB), when the board has one. */
  readonly coprocessor?: string | null;
  readonly backend: string;
  readonly presentPins: number;
  readonly requested?: number;
  readonly probed?: number[];
  readonly heldByAgent?: string[];
  readonly loopback?: Record<string, unknown>[];
  readonly problems?: string[];
  readonly declared?: string[];
}

/** Loop evidence that contradicts itself: levels read back wrong, edges missing. */
function loopInconsistency(l: Record<string, unknown>): string | undefined {
  const wrote = (l['wrote'] as number[] | undefined) ?? [];
  const read = (l['read'] as number[] | undefined) ?? [];
  const edges = l['edges'] as { expected?: number; rising?: number; falling?: number } | undefined;
  if (wrote.length === 0)
    return `loopback ${String(l['out'])}->${String(l['in'])}: nothing written`;
  if (wrote.some((v, i) => read[i] !== v))
    return `loopback ${String(l['out'])}->${String(l['in'])}: read ${read.join('')} for written ${wrote.join('')}`;
  if ((edges?.rising ?? 0) + (edges?.falling ?? 0) !== wrote.length)
    return `loopback ${String(l['out'])}->${String(l['in'])}: ${wrote.length} writes, ${(edges?.rising ?? 0) + (edges?.falling ?? 0)} edges`;
  return undefined;
}

/** ER-HW-GPIO */
export const gpioCheck = check<GpioRaw>({
  collect: async (ctx) => {
    const b = await ctx.board();
    const pins = b.header.filter((h) => h.present);
    const base = {
      profile: b.profile.id,
      backend: b.gpioBackend,
      presentPins: pins.length,
      coprocessor: b.coprocessor?.device ?? null,
    };
    if (b.gpioBackend === 'none' || pins.length === 0) return base;
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
          ...probe.map((p) => ({
            name: `er-pin${p.pin}`,
            pin: p.pin,
            direction: 'input' as const,
          })),
          ...pairs.flatMap((p, i) => [
            {
              name: loopNames(i).out,
              pin: p.out,
              direction: 'output' as const,
              initial: 0 as const,
            },
            {
              name: loopNames(i).in,
              pin: p.in,
              direction: 'input' as const,
              edge: 'both' as const,
            },
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
      // uses it, the header cannot be driven from here (the judge says it cannot judge).
      if (problems.length > 0 && problems.every((p) => p.includes('EDGEFLOW_HAL_SERIAL_BUSY')))
        return { ...base, problems };
      const requested = hal.gpio().length;
      for (const [i, pair] of pairs.entries()) {
        const r = await exerciseLoop(hal, pair, i);
        loops.push(r.evidence);
        if (r.problem !== undefined) problems.push(r.problem);
      }
      return {
        ...base,
        requested,
        probed: probe.map((p) => p.pin),
        heldByAgent: [...held],
        loopback: loops,
        problems,
        declared: pairs.map((p) => `${p.out}->${p.in} (${p.declaredBy})`),
      };
    } finally {
      await hal.stop();
    }
  },
  judge: ({ raw }): Outcome => {
    if (raw.backend === 'none' || raw.presentPins === 0)
      return skip(`no header GPIO on this host (${raw.backend}, ${raw.presentPins} present pins)`);
    const busy = raw.problems ?? [];
    if (
      raw.loopback === undefined &&
      busy.length > 0 &&
      busy.every((p) => p.includes('EDGEFLOW_HAL_SERIAL_BUSY'))
    )
      return skip(
        `cannot judge: the agent holds the co-processor's serial link (${raw.coprocessor ?? 'Firmata'}), so the header cannot be driven from here; ER-HW-SENSORS judges its I2C through the agent's readings`,
        { problems: busy },
      );
    const problems = [
      ...(raw.problems ?? []),
      ...(raw.loopback ?? []).map(loopInconsistency).filter((p) => p !== undefined),
    ];
    const ev = { ...raw };
    if (problems.length > 0) return fail(`${problems.length} GPIO problem(s): ${problems[0]}`, ev);
    const declared = raw.declared ?? [];
    return passUnless(
      simulatedBoard(raw.profile),
      `${raw.probed?.length ?? 0} header lines requested and released${declared.length ? `; loopback ${declared.join(', ')}: ${LOOP_CYCLES} high/low cycles read back with one edge per write` : '; no jumper declared (--gpio-loopback OUT:IN)'}`,
      ev,
    );
  },
});

interface I2cRaw {
  readonly root: string;
  readonly profile: string;
  readonly expected: {
    name: string;
    bus: number;
    pins: unknown;
    optional: boolean;
    enable: string | null;
    /** `firmata`: the bus of a co-processor (LattePanda), there when the co-processor is. */
    via?: string | null;
  }[];
  readonly detected: { bus: number; devPath: string; name: string | null }[];
  readonly coprocessor?: { mcu: string; present: boolean } | null;
}

/** ER-HW-I2C */
export const i2cCheck = check<I2cRaw>({
  collect: async (ctx) => {
    const b = await ctx.board();
    return {
      root: ctx.opts.root,
      profile: b.profile.id,
      expected: b.profile.i2c.map((x) => ({
        name: x.name,
        bus: x.bus,
        pins: x.pins,
        optional: x.optional === true,
        enable: x.enable ?? null,
        via: x.via ?? null,
      })),
      coprocessor: b.profile.coprocessor
        ? { mcu: b.profile.coprocessor.mcu, present: b.coprocessor !== undefined }
        : null,
      detected: b.i2c.map((a) => ({ bus: a.bus, devPath: a.devPath, name: a.name ?? null })),
    };
  },
  judge: ({ raw }): Outcome => {
    if (raw.expected.length === 0) return skip(`the ${raw.profile} profile routes no I2C bus`);
    // Optional buses (the Pi's HAT EEPROM bus) are off on stock images and carry no sensors. A
    // co-processor's bus (LattePanda: Firmata I2C) is there when the co-processor is on USB.
    const there = (x: I2cRaw['expected'][number]): boolean =>
      x.via === 'firmata'
        ? raw.coprocessor?.present === true
        : raw.detected.some((a) => a.bus === x.bus);
    const where = (x: I2cRaw['expected'][number], found: boolean): string =>
      x.via === 'firmata'
        ? `bus ${x.bus} (Firmata I2C of the ${raw.coprocessor?.mcu ?? 'co-processor'})`
        : found
          ? `i2c-${x.bus} (${raw.detected.find((a) => a.bus === x.bus)?.devPath ?? '?'})`
          : `/dev/i2c-${x.bus}`;
    const absent = raw.expected.filter((x) => !x.optional && !there(x));
    const ev = {
      expected: raw.expected,
      detected: raw.detected,
      coprocessor: raw.coprocessor ?? null,
    };
    if (absent.length > 0)
      return fail(
        `absent: ${absent.map((x) => `${x.name} (${where(x, false)}${x.enable ? `, enable with ${x.enable}` : ''})`).join(', ')}`,
        ev,
      );
    const present = raw.expected.filter(there);
    const sim = raw.detected.filter((a) => a.devPath.startsWith('sim:'));
    return passUnless(
      sim.length > 0
        ? `simulated bus(es) ${sim.map((a) => a.devPath).join(', ')}: no /dev/i2c-N exists`
        : fixtureRoot(raw.root),
      `${present.map((x) => where(x, true)).join(', ')} present`,
      ev,
    );
  },
});
