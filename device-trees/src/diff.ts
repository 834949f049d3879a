/**
 * Unified diff (the format of `diff -u` / `git diff`) of two texts, line based, 3 lines of
 * context. Written here so dry runs need no external tool; boot configs are small, so an
 * O(n*m) LCS table is fine.
 */

interface Op {
  readonly kind: ' ' | '-' | '+';
  readonly line: string;
}

function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith('\n');
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, finalNewline };
}

function diffOps(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * w + j + 1]! + 1
          : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

function range(start: number, count: number): string {
  // diff -u writes an empty range as "N,0" where N is the line before it.
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * Unified diff of `before` → `after`, or '' when they are equal. `null` means the file does not
 * exist (labelled /dev/null).
 */
export function unifiedDiff(
  before: string | null,
  after: string | null,
  labelA: string,
  labelB: string,
  context = 3,
): string {
  if (before === after) return '';
  const A = splitLines(before ?? '');
  const B = splitLines(after ?? '');
  // Mark a missing final newline the way diff does, by making the last line differ.
  const NO_NL = '\n\\ No newline at end of file';
  if (!A.finalNewline && A.lines.length > 0) A.lines[A.lines.length - 1] += NO_NL;
  if (!B.finalNewline && B.lines.length > 0) B.lines[B.lines.length - 1] += NO_NL;
  const ops = diffOps(A.lines, B.lines);
  const out: string[] = [
    `--- ${before === null ? '/dev/null' : labelA}`,
    `+++ ${after === null ? '/dev/null' : labelB}`,
  ];
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  let idx = 0;
  while (idx < changed.length) {
    const first = changed[idx]!;
    let last = first;
    while (idx + 1 < changed.length && changed[idx + 1]! - last <= 2 * context)
      last = changed[++idx]!;
    idx++;
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    let aStart = 1;
    let bStart = 1;
    for (let k = 0; k < from; k++) {
      if (ops[k]!.kind !== '+') aStart++;
      if (ops[k]!.kind !== '-') bStart++;
    }
    const body = ops.slice(from, to + 1);
    const aCount = body.filter((o) => o.kind !== '+').length;
    const bCount = body.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of body) out.push(`${o.kind}${o.line}`);
  }
  return out.join('\n') + '\n';
}
