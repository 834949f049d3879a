/**
 * The `source` of a reading from MQTT client C is `mqtt:C`. Building that string per message
 * gave every cached reading its own copy (about 30 bytes per sensor, 3 MiB at 100k sensors,
 * measured by agent/bench/cache-memory.bench.ts); one string per client is shared instead.
 * Bounded: past MAX clients the table starts over (a copy per reading again, never a leak).
 */
const MAX = 10_000;
const names = new Map<string, string>();

export function mqttSource(clientId: string): string {
  let s = names.get(clientId);
  if (s === undefined) {
    if (names.size >= MAX) names.clear();
    s = `mqtt:${clientId}`;
    names.set(clientId, s);
  }
  return s;
}

/** Returns one shared instance per distinct string seen by this table (log replay). */
export function interner(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    const hit = seen.get(s);
    if (hit !== undefined) return hit;
    if (seen.size < MAX) seen.set(s, s);
    return s;
  };
}
