/**
 * Whether an MQTT topic filter matches a topic (`+` one level, `#` the rest, including the
 * parent level: `a/#` matches `a`), as mqemitter matches with `matchEmptyLevels`. Used to decide
 * which worker a message must be sent to; that worker's own emitter matches exactly again, so
 * a false positive costs one message and a false negative would lose one: when in doubt, match.
 */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A set of filters with use counts, and a bounded cache of topic decisions. */
export class FilterSet {
  readonly #filters = new Map<string, number>();
  readonly #cache = new Map<string, boolean>();

  /** Adds one use; true when the filter is new. */
  add(filter: string): boolean {
    const n = this.#filters.get(filter) ?? 0;
    this.#filters.set(filter, n + 1);
    if (n === 0) this.#cache.clear();
    return n === 0;
  }

  /** Removes one use; true when the filter is gone. */
  remove(filter: string): boolean {
    const n = this.#filters.get(filter);
    if (n === undefined) return false;
    if (n > 1) {
      this.#filters.set(filter, n - 1);
      return false;
    }
    this.#filters.delete(filter);
    this.#cache.clear();
    return true;
  }

  matches(topic: string): boolean {
    if (this.#filters.size === 0) return false;
    const hit = this.#cache.get(topic);
    if (hit !== undefined) return hit;
    let m = false;
    for (const f of this.#filters.keys()) {
      if (filterMatches(f, topic)) {
        m = true;
        break;
      }
    }
    // Bounded: topics are many (one per sensor); the filters few.
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(topic, m);
    return m;
  }

  /** Every filter (once). */
  list(): string[] {
    return [...this.#filters.keys()];
  }
}
