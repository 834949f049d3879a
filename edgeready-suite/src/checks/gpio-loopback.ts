import type { BoardProfile, GpioEdge, Hal } from '@edgeflow/hal';

/** High/low cycles driven through each jumper. */
export const LOOP_CYCLES = 8;
/**
 * How long to wait for an input edge after setting the output. A wired edge arrives in
 * microseconds on hardware and within the same tick on the simulator; this bound only
 * keeps a missing jumper from hanging the check.
 */
export const EDGE_WAIT_MS = 250;

/** A jumper to loop through, and who declared it. */
export interface LoopPair {
  readonly out: string;
  readonly in: string;
  readonly declaredBy: '--gpio-loopback' | 'board profile';
}

/** `--gpio-loopback` pairs when given, else the jumpers the board profile declares (sim). */
export function loopPairs(
  option: readonly { readonly out: string; readonly in: string }[],
  profile: BoardProfile,
): LoopPair[] {
  if (option.length > 0)
    return option.map((p) => ({ out: p.out, in: p.in, declaredBy: '--gpio-loopback' }));
  return (profile.jumpers ?? []).map((j) => ({
    out: String(j.out),
    in: String(j.in),
    declaredBy: 'board profile',
  }));
}

/** Line names the check gives the pair's lines in its HAL config. */
export const loopNames = (i: number): { out: string; in: string } => ({
  out: `er-loop${i}-out`,
  in: `er-loop${i}-in`,
});

function edgesOf(hal: Hal, name: string): { list: GpioEdge[]; off: () => void } {
  const list: GpioEdge[] = [];
  const on = (e: GpioEdge): void => {
    if (e.name === name) list.push(e);
  };
  hal.on('edge', on);
  return { list, off: () => hal.off('edge', on) };
}

/** Resolves true once `list` holds `count` edges, false after `ms` without them. */
function edgesReached(hal: Hal, list: readonly GpioEdge[], count: number, ms: number) {
  if (list.length >= count) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      hal.off('edge', on);
      resolve(ok);
    };
    // Registered after edgesOf's listener, so `list` already holds the edge seen here.
    const on = (): void => {
      if (list.length >= count) done(true);
    };
    const timer = setTimeout(() => done(false), ms);
    hal.on('edge', on);
  });
}

/** What one jumper did: evidence, and the first problem when it did not loop back. */
export interface LoopResult {
  readonly evidence: Record<string, unknown>;
  readonly problem?: string;
}

/**
 * Drives OUT high and low `cycles` times, reading IN back after each write and counting
 * IN's edges: a jumper must give every written level on IN and exactly one edge per write,
 * with increasing timestamps. Stops at the first mismatch so a missing jumper fails fast.
 */
export async function exerciseLoop(
  hal: Hal,
  pair: LoopPair,
  i: number,
  cycles = LOOP_CYCLES,
  edgeWaitMs = EDGE_WAIT_MS,
): Promise<LoopResult> {
  const names = loopNames(i);
  const label = `loopback ${pair.out}->${pair.in} (${pair.declaredBy})`;
  const edges = edgesOf(hal, names.in);
  const wrote: number[] = [];
  const read: number[] = [];
  let problem: string | undefined;
  let initial: number | undefined;
  try {
    initial = await hal.getLine(names.in);
    if (initial !== 0) problem = `${label}: OUT is low but IN reads ${initial}`;
    for (let c = 1; c <= cycles && problem === undefined; c++) {
      for (const v of [1, 0] as const) {
        await hal.setOutput(names.out, v);
        wrote.push(v);
        const edged = await edgesReached(hal, edges.list, wrote.length, edgeWaitMs);
        const got = await hal.getLine(names.in);
        read.push(got);
        if (got !== v) {
          problem = `${label}: cycle ${c} wrote ${v} read ${got} (is the jumper on these pins?)`;
          break;
        }
        if (!edged) {
          problem = `${label}: cycle ${c} wrote ${v}, IN followed but raised no edge within ${edgeWaitMs} ms`;
          break;
        }
      }
    }
  } catch (e) {
    problem = `${label}: ${(e as Error).message}`;
  } finally {
    edges.off();
  }
  const ts = edges.list.map((e) => e.timestampNs);
  const increasing = ts.every((t, k) => k === 0 || t > (ts[k - 1] ?? t));
  const rising = edges.list.filter((e) => e.edge === 'rising').length;
  const falling = edges.list.length - rising;
  if (problem === undefined && edges.list.length !== wrote.length)
    problem = `${label}: ${wrote.length} writes raised ${edges.list.length} edges on IN`;
  if (problem === undefined && !increasing)
    problem = `${label}: edge timestamps on IN do not increase`;
  const evidence: Record<string, unknown> = {
    out: pair.out,
    in: pair.in,
    declaredBy: pair.declaredBy,
    cycles,
    initialRead: initial ?? null,
    wrote,
    read,
    edges: { expected: wrote.length, rising, falling, timestampsIncreasing: increasing },
    edgeSpanNs: ts.length > 1 ? String((ts.at(-1) ?? 0n) - (ts[0] ?? 0n)) : null,
    ok: problem === undefined,
  };
  return problem === undefined ? { evidence } : { evidence, problem };
}
