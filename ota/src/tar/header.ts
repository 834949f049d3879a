/**
 * POSIX ustar headers (IEEE 1003.1-2001 "pax" interchange format, ustar subset) plus the
 * pax extended header (`x`) for long names. Only what bundles need; everything else is refused
 * by the reader rather than guessed at.
 */
export const BLOCK = 512;

export type TarType =
  | 'file'
  | 'dir'
  | 'symlink'
  | 'hardlink'
  | 'pax'
  | 'pax-global'
  | 'gnu-longname'
  | 'gnu-longlink'
  | 'other';

export interface TarHeader {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  type: TarType;
  typeflag: string;
  linkname: string;
}

const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'hardlink',
  x: 'pax',
  // Solaris's extended header: the same records as 'x' (other readers apply them the same way).
  X: 'pax',
  g: 'pax-global',
  L: 'gnu-longname',
  K: 'gnu-longlink',
};

/**
 * A malformed archive: bad checksum, truncated header or body, data after the end, a field this
 * reader will not guess at. Thrown by the reader only; callers map it to their own error code.
 */
export class TarError extends Error {
  constructor(message: string) {
    super(`tar: ${message}`);
    this.name = 'TarError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a name or pax value. Invalid UTF-8 is refused: decoding it with replacement characters
 * would let two different byte strings name the same member (other readers keep the bytes).
 */
export function decodeUtf8(b: Uint8Array, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new TarError(`${what} is not valid UTF-8`);
  }
}

/** A NUL-terminated field (the first NUL ends it, as in POSIX and every other reader). */
function str(b: Buffer, off: number, len: number, what: string): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return decodeUtf8(s.subarray(0, z === -1 ? len : z), what);
}

function octal(b: Buffer, off: number, len: number, what: string): number {
  if ((b[off] ?? 0) & 0x80) throw new TarError(`header: base-256 ${what} not supported`);
  const s = str(b, off, len, what).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`header: bad octal ${what} "${s}"`);
  return parseInt(s, 8);
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[i] ?? 0);
  return sum;
}

/** True for an all-zero block (end of archive marker). */
export function isZeroBlock(b: Buffer): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/**
 * The ustar `prefix` field (bytes 345-499), joined to the name only in a POSIX ustar header
 * (magic "ustar\0", version "00"). Elsewhere those bytes mean other things (GNU's atime) or
 * nothing, and readers disagree about them: they must be empty there.
 */
function prefixOf(b: Buffer): string {
  const posix = b.subarray(257, 265).toString('latin1') === 'ustar\x0000';
  const prefix = str(b, 345, 155, 'name prefix');
  if (!posix && prefix !== '')
    throw new TarError('header: a name prefix outside a POSIX ustar header');
  return prefix;
}

/** Decodes one 512-byte header; throws TarError on a bad checksum or field. */
export function decodeHeader(b: Buffer): TarHeader {
  const stored = octal(b, 148, 8, 'checksum');
  if (stored !== checksum(b)) throw new TarError('header: checksum mismatch');
  const typeflag = String.fromCharCode(b[156] ?? 0);
  const prefix = prefixOf(b);
  const name = str(b, 0, 100, 'name');
  const full = prefix ? `${prefix}/${name}` : name;
  // Not used here, but other readers refuse a header whose numeric fields are not numbers.
  for (const [off, what] of [
    [108, 'uid'],
    [116, 'gid'],
    [329, 'devmajor'],
    [337, 'devminor'],
  ] as const)
    octal(b, off, 8, what);
  // v7 compatibility: a typeflag NUL "file" whose name field ends in "/" is a directory.
  const type = typeflag === '\0' && name.endsWith('/') ? 'dir' : (TYPES[typeflag] ?? 'other');
  return {
    name: full,
    mode: octal(b, 100, 8, 'mode'),
    size: octal(b, 124, 12, 'size'),
    mtime: octal(b, 136, 12, 'mtime'),
    type,
    typeflag,
    linkname: str(b, 157, 100, 'link name'),
  };
}

function put(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'utf8');
}

function putOctal(b: Buffer, off: number, len: number, n: number): void {
  put(b, off, len, n.toString(8).padStart(len - 1, '0') + '\0');
}

/** Splits a path into ustar (prefix, name), or undefined when it needs a pax header. */
function splitUstar(path: string): [string, string] | undefined {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const pre = path.slice(0, i);
    const rest = path.slice(i + 1);
    if (Buffer.byteLength(pre) <= 155 && Buffer.byteLength(rest) <= 100) return [pre, rest];
  }
  return undefined;
}

export interface HeaderInput {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'pax';
  mode: number;
  size: number;
  mtime: number;
  linkname?: string;
}

/** Encodes a ustar header. The caller emits a pax header first when `needsPax` says so. */
export function encodeHeader(h: HeaderInput): Buffer {
  const b = Buffer.alloc(BLOCK);
  const split = splitUstar(h.name) ?? ['', h.name.slice(0, 100)];
  put(b, 0, 100, split[1]);
  putOctal(b, 100, 8, h.mode & 0o7777);
  putOctal(b, 108, 8, 0);
  putOctal(b, 116, 8, 0);
  putOctal(b, 124, 12, h.size);
  putOctal(b, 136, 12, Math.floor(h.mtime));
  b[156] = { file: 0x30, dir: 0x35, symlink: 0x32, pax: 0x78 }[h.type];
  put(b, 157, 100, (h.linkname ?? '').slice(0, 100));
  put(b, 257, 6, 'ustar\0');
  put(b, 263, 2, '00');
  put(b, 265, 32, 'root');
  put(b, 297, 32, 'root');
  put(b, 345, 155, split[0]);
  put(b, 148, 8, checksum(b).toString(8).padStart(6, '0') + '\0 ');
  return b;
}

/** True when the name or link target does not fit plain ustar fields. */
export function needsPax(name: string, linkname = ''): boolean {
  return splitUstar(name) === undefined || Buffer.byteLength(linkname) > 100;
}

/** Builds the body of a pax extended header: "<len> <key>=<value>\n" records. */
export function paxBody(fields: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    const rec = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rec) + 1;
    while (String(len).length + Buffer.byteLength(rec) !== len)
      len = String(len).length + Buffer.byteLength(rec);
    out += `${len}${rec}`;
  }
  return Buffer.from(out, 'utf8');
}

/**
 * Parses a pax extended header body: `"<len> <key>=<value>\n"` records (POSIX.1-2008, pax,
 * "extended header"). The length must be plain decimal digits and each record must end in
 * "\n" exactly where its length says; a key given twice is refused (readers disagree on which
 * one wins).
 */
export function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    const digits = sp === -1 ? '' : body.subarray(off, sp).toString('latin1');
    if (!/^[1-9]\d{0,8}$/.test(digits)) throw new TarError('pax header: bad record length');
    const len = Number(digits);
    if (off + len > body.length || body[off + len - 1] !== 0x0a || sp + 1 > off + len - 1)
      throw new TarError('pax header: malformed record');
    const rec = decodeUtf8(body.subarray(sp + 1, off + len - 1), 'pax record');
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new TarError('pax header: record without a key');
    const key = rec.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new TarError(`pax header: ${key} given twice`);
    out[key] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}
