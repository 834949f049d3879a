/**
 * Topic ACLs: a client may publish / subscribe to a topic when one of its patterns matches.
 * Patterns use MQTT wildcards (`+` one level, `#` the rest, [MQTT-4.7.1]) and two
 * substitutions, so that one rule serves a fleet: `%u` = the authenticated user name,
 * `%c` = the client id (a value containing `+`, `#` or `/` never matches).
 */
export class TopicAcl {
  readonly #patterns: string[][];
  readonly #any: boolean;

  constructor(patterns: readonly string[], user: string, clientId: string) {
    const unsafe = (v: string) => /[+#/]/.test(v) || v === '';
    const out: string[][] = [];
    for (const p of patterns) {
      if ((p.includes('%u') && unsafe(user)) || (p.includes('%c') && unsafe(clientId))) continue;
      out.push(p.replaceAll('%u', user).replaceAll('%c', clientId).split('/'));
    }
    this.#patterns = out;
    this.#any = out.some((p) => p.length === 1 && p[0] === '#');
  }

  /** Whether a concrete topic name (publish) is allowed. */
  allowsTopic(topic: string): boolean {
    if (this.#any) return !topic.startsWith('$');
    const levels = topic.split('/');
    return this.#patterns.some((p) => matches(p, levels));
  }

  /**
   * Whether a subscription filter is allowed: every topic it can match must be allowed, i.e.
   * the filter is covered by one pattern (a pattern `+` covers a filter `+`, `#` covers all).
   */
  allowsFilter(filter: string): boolean {
    if (this.#any) return !filter.startsWith('$');
    const levels = filter.split('/');
    return this.#patterns.some((p) => covers(p, levels));
  }
}

function matches(pattern: string[], levels: string[]): boolean {
  // [MQTT-4.7.2-1]: wildcards at the first level do not match topics starting with $.
  if ((levels[0] ?? '').startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '#') return true;
    if (i >= levels.length) return false;
    if (p !== '+' && p !== levels[i]) return false;
  }
  return pattern.length === levels.length;
}

function covers(pattern: string[], filter: string[]): boolean {
  if ((filter[0] ?? '').startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '#') return true;
    if (i >= filter.length) return false;
    const f = filter[i];
    if (f === '#') return false;
    if (p === '+') continue;
    if (f === '+' || p !== f) return false;
  }
  return pattern.length === filter.length;
}
