/**
 * Reads the members of an EdgeReady report archive in the browser (POSIX ustar, regular files
 * only), so the page can render report.json and timeseries.jsonl from the very bytes it sent
 * to the agent for verification. Verification itself is the agent's (edgeready's own code);
 * this reader only has to find the members and refuse what it cannot read.
 */

export interface TarMember {
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

function field(h: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && h[end] !== 0) end++;
  return new TextDecoder().decode(h.subarray(off, end));
}

function octal(h: Uint8Array, off: number, len: number): number {
  const s = field(h, off, len).trim();
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar: bad number field "${s}" at byte ${off}`);
  return parseInt(s, 8);
}

/** Every regular-file member; throws with a reason on anything malformed. */
export function readTar(buf: Uint8Array): TarMember[] {
  const out: TarMember[] = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return out;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    if (sum !== octal(h, 148, 8)) throw new Error(`tar: header checksum mismatch at byte ${off}`);
    const name = field(h, 0, 100);
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] ?? 0);
    const start = off + BLOCK;
    if (start + size > buf.length) throw new Error(`tar: member ${name} is cut short`);
    if (type === '0' || type === '\u0000')
      out.push({ name, data: buf.subarray(start, start + size) });
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error('tar: archive ends without the end-of-archive blocks');
}
