/**
 * Where a process's resident memory goes, for the RSS runs of the ingest benchmark:
 * `process.memoryUsage()` (what V8 and Node account for) next to what the kernel counts
 * (`/proc/self/smaps`), split into the mappings that explain the difference:
 *
 * - `v8Spaces`: physical size of V8's heap spaces (young generation = new space; old, code, map,
 *   large-object spaces). `heapTotal` is their committed size.
 * - `file`: file-backed pages (the node binary, shared libraries): counted in RSS, shared with
 *   the page cache, not growable by load.
 * - `brk`: the main glibc arena (`[heap]`).
 * - `arenas`: anonymous mappings inside a 64 MiB-aligned 64 MiB window (glibc's non-main
 *   arenas, HEAP_MAX_SIZE = 64 MiB on 64-bit): malloc memory of libuv's thread pool (fs writes,
 *   fdatasync) and V8's worker threads. A heuristic: a V8 mapping may land there too.
 * - `anonOther`: every other anonymous mapping (V8's heap pages, thread stacks, large mallocs
 *   served by mmap, ArrayBuffer backing stores above the mmap threshold).
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

export interface MemStage {
  stage: string;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Physical bytes per V8 space, e.g. { new_space, old_space, code_space, ... }. */
  v8Spaces: Record<string, number>;
  file: number;
  brk: number;
  arenas: number;
  arenaCount: number;
  anonOther: number;
  /** Sum of `Rss:` over all mappings (page-table walk), to compare with `rss` (kernel counter). */
  smapsRss: number;
  /** /proc/self/status VmRSS, RssAnon, RssFile (the kernel's counters, as `ps` shows). */
  vmRss: number;
  rssAnon: number;
  rssFile: number;
}

const MIB64 = 64 * 1024 * 1024;

interface Smaps {
  file: number;
  brk: number;
  arenas: number;
  arenaCount: number;
  anonOther: number;
}

function readStatus(): { vmRss: number; rssAnon: number; rssFile: number } {
  let text = '';
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: zeros
  }
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { vmRss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

/** Sums `Rss:` of /proc/self/smaps by kind of mapping (Linux only; zeros elsewhere). */
function readSmaps(): Smaps {
  const out: Smaps = { file: 0, brk: 0, arenas: 0, arenaCount: 0, anonOther: 0 };
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return out;
  }
  let kind: 'file' | 'brk' | 'arena' | 'anon' = 'anon';
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m !== null) {
      const start = parseInt(m[1] as string, 16);
      const end = parseInt(m[2] as string, 16);
      const name = m[3] ?? '';
      if (name === '[heap]') kind = 'brk';
      else if (name.startsWith('/')) kind = 'file';
      else if (name === '' && Math.floor(start / MIB64) === Math.floor((end - 1) / MIB64)) {
        // Inside one 64 MiB window: an arena heap starts exactly on the window's boundary.
        kind = start % MIB64 === 0 ? 'arena' : 'anon';
        if (kind === 'arena') out.arenaCount++;
      } else kind = 'anon';
      continue;
    }
    if (!line.startsWith('Rss:')) continue;
    const kb = Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
    if (kind === 'file') out.file += kb;
    else if (kind === 'brk') out.brk += kb;
    else if (kind === 'arena') out.arenas += kb;
    else out.anonOther += kb;
  }
  return out;
}

/** A snapshot of the process's memory, labelled `stage`. */
export function memStage(stage: string): MemStage {
  const m = process.memoryUsage();
  const sm = readSmaps();
  const v8Spaces: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) v8Spaces[s.space_name] = s.physical_space_size;
  return {
    stage,
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    v8Spaces,
    ...sm,
    smapsRss: sm.file + sm.brk + sm.arenas + sm.anonOther,
    ...readStatus(),
  };
}
