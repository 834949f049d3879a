/**
 * First topic level of the command namespace (`edgeflow/<device>/gpio/<name>/set`, quotes, OTA
 * installs, and the agent's own results and status). Publishing there changes the device or
 * speaks for the agent, so no wildcard reaches it: only a pattern whose first level is written
 * `edgeflow` grants it (deny by default, like `$` topics for wildcards, [MQTT-4.7.2-1]).
 */
export const COMMAND_ROOT = 'edgeflow';

/**
 * Whether a topic name is in the {@link COMMAND_ROOT} namespace. Runs for every delivered
 * message (authorizeForward): a prefix test, no split, no allocation.
 */
export function inCommandRoot(topic: string): boolean {
  return (
    topic.startsWith(COMMAND_ROOT) &&
    (topic.length === COMMAND_ROOT.length || topic.charCodeAt(COMMAND_ROOT.length) === 0x2f)
  );
}

/**
 * Topic ACLs: a client may publish / subscribe to a topic when one of its patterns matches.
 * Patterns use MQTT wildcards (`+` one level, `#` the rest, [MQTT-4.7.1]) and two
 * substitutions, so that one rule serves a fleet: `%u` = the authenticated user name,
 * `%c` = the client id (a value containing `+`, `#` or `/` never matches). Publishing into
 * the {@link COMMAND_ROOT} namespace needs a pattern that names it literally, and so does
 * receiving from it: a filter naming it must be covered by such a pattern, and a message there
 * is delivered through a wildcard filter only when such a pattern matches its topic
 * (BrokerSecurity.authorizeForward).
 */
export class TopicAcl {
  readonly #patterns: string[][];
  /** The patterns that name the command namespace as written (not through %u / %c). */
  readonly #commands: string[][];
  readonly #any: boolean;

  constructor(patterns: readonly string[], user: string, clientId: string) {
    const unsafe = (v: string) => /[+#/]/.test(v) || v === '';
    const out: string[][] = [];
    const commands: string[][] = [];
    for (const p of patterns) {
      if ((p.includes('%u') && unsafe(user)) || (p.includes('%c') && unsafe(clientId))) continue;
      const levels = p.replaceAll('%u', user).replaceAll('%c', clientId).split('/');
      out.push(levels);
      if (p.split('/')[0] === COMMAND_ROOT) commands.push(levels);
    }
    this.#patterns = out;
    this.#commands = commands;
    this.#any = out.some((p) => p.length === 1 && p[0] === '#');
  }

  /** Whether a concrete topic name is allowed (publish; delivery of a command-root topic). */
  allowsTopic(topic: string): boolean {
    const levels = topic.split('/');
    if (levels[0] === COMMAND_ROOT) return this.#commands.some((p) => matches(p, levels));
    if (this.#any) return !topic.startsWith('$');
    return this.#patterns.some((p) => matches(p, levels));
  }

  /**
   * Whether a subscription filter is allowed: every topic it can match must be allowed, i.e.
   * the filter is covered by one pattern (a pattern `+` covers a filter `+`, `#` covers all).
   */
  allowsFilter(filter: string): boolean {
    const levels = filter.split('/');
    if (levels[0] === COMMAND_ROOT) return this.#commands.some((p) => covers(p, levels));
    if (this.#any) return !filter.startsWith('$');
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
