import type { Bias, LineValue } from './types.js';

/** Two line offsets of one chip joined like a jumper wire between header pins. */
export type SimWire = readonly [number, number];

/** What one line of a net contributes to the level of the wire. */
export interface NetPart {
  readonly offset: number;
  /** Level of a line requested as an output (strong driver). */
  readonly output: LineValue | undefined;
  /** External drive, like gpio-sim's `pull` (weak driver). */
  readonly drive: LineValue | undefined;
  /** Bias of a requested line; undefined when the line is free. */
  readonly bias: Bias | undefined;
}

/** The level of a net, or why it has none. */
export type NetLevel =
  | { readonly ok: true; readonly level: LineValue }
  | { readonly ok: false; readonly conflict: string };

/**
 * Groups lines into nets (connected components of the wires); an unwired line
 * is a net of its own. Nets are small (a header has 40 pins), so a plain scan is
 * enough.
 */
export function buildNets(lines: number, wires: readonly SimWire[]): number[][] {
  const parent = Array.from({ length: lines }, (_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    return r;
  };
  for (const [a, b] of wires) parent[find(a)] = find(b);
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < lines; i++) {
    const r = find(i);
    const net = byRoot.get(r) ?? [];
    net.push(i);
    byRoot.set(r, net);
  }
  const nets: number[][] = [];
  for (let i = 0; i < lines; i++) nets.push(byRoot.get(find(i)) ?? [i]);
  return nets;
}

function agreed(parts: readonly NetPart[], pick: (p: NetPart) => LineValue | undefined) {
  const drivers = parts.filter((p) => pick(p) !== undefined);
  const levels = new Set(drivers.map(pick));
  return { drivers, levels };
}

/**
 * The rule for a wired net, strongest first (docs/hal.md "Wired lines"):
 * 1. lines requested as outputs drive it; two outputs at different levels are
 *    contention (on hardware a short between two push-pull drivers: the kernel
 *    does not notice, the pads may be damaged; the simulator refuses the change);
 * 2. otherwise external drives (gpio-sim pulls, weaker than any output) set it;
 *    two disagreeing drives are contention as well;
 * 3. otherwise the bias of the requested lines: pull-up alone reads 1, pull-down
 *    alone reads 0, both or none leave it floating, which reads 0 as on gpio-sim.
 */
export function resolveNet(parts: readonly NetPart[]): NetLevel {
  const out = agreed(parts, (p) => p.output);
  const ext = agreed(parts, (p) => p.drive);
  for (const [kind, g, pick] of [
    ['outputs', out, (p: NetPart) => p.output],
    ['external drives', ext, (p: NetPart) => p.drive],
  ] as const) {
    if (g.levels.size > 1) {
      const who = g.drivers.map((p) => `${p.offset}=${String(pick(p))}`).join(', ');
      return { ok: false, conflict: `${kind} disagree on one wire (${who})` };
    }
  }
  const strong = out.drivers[0]?.output ?? ext.drivers[0]?.drive;
  if (strong !== undefined) return { ok: true, level: strong };
  const up = parts.some((p) => p.bias === 'pull-up');
  const down = parts.some((p) => p.bias === 'pull-down');
  return { ok: true, level: up && !down ? 1 : 0 };
}
