import { readFileSync } from 'node:fs';

/** One shell command found in a fenced block of a Markdown file. */
export interface DocCommand {
  /** `docs/ota.md:54` (line of its first physical line). */
  where: string;
  /** The command with `\` continuations joined and a trailing `# comment` removed. */
  text: string;
}

/** First words that make a line of an untagged or `sh` block a command worth keeping true. */
const COMMANDS =
  /^(edgeflow|edgeready|mosquitto_pub|curl|openssl|printf|cp|systemctl|journalctl|npm)\b/;

/** Drops a trailing `# comment` (outside quotes) and surrounding blanks. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trim();
  }
  return line.trim();
}

/**
 * Every command in a Markdown file's shell blocks (fences with no language, `sh`, `bash` or
 * `shell`): lines whose first word is one of the tools above, with continuations joined.
 */
export function docCommands(path: string, label: string): DocCommand[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: DocCommand[] = [];
  let inBlock = false;
  let shell = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    // Fences may be indented (a block inside a list item).
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) {
      inBlock = !inBlock;
      shell = inBlock && ['', 'sh', 'bash', 'shell'].includes(fence[1] ?? '');
      continue;
    }
    if (!inBlock || !shell) continue;
    const first = stripComment(line);
    // `edgeflow agent: EDGEFLOW_…` is printed output, not a command.
    if (!COMMANDS.test(first) || /^\S+ \S+:(\s|$)/.test(first)) continue;
    let text = first;
    const start = i + 1;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      text = `${text.slice(0, -1).trimEnd()} ${stripComment(lines[i] as string)}`;
    }
    out.push({ where: `${label}:${start}`, text });
  }
  return out;
}

/**
 * A synopsis rather than a command to run: it shows alternatives (`a|b`), optional parts
 * (`[--x]`), placeholders (`<hex>`, `FILE …`) or an ellipsis.
 */
export function isSynopsis(text: string): boolean {
  // Quoted text is data; ` | ` between words is a pipe and ` > ` a redirection, not notation.
  const bare = text.replace(/'[^']*'|"[^"]*"/g, '');
  return /[[\]…]|\S\|\S|<[A-Za-z][^>]*>/.test(bare);
}

/** The `--options` a command line names. */
export function flagsOf(text: string): string[] {
  return [
    ...new Set([...text.matchAll(/(?:^|[\s[|])(--[a-z][a-z0-9-]*)/g)].map((m) => m[1] as string)),
  ];
}
