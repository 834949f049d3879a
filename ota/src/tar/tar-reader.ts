import { ByteReader } from './byte-reader.js';
import { BLOCK, TarError, decodeHeader, decodeUtf8, isZeroBlock, parsePax } from './header.js';
import type { TarHeader, TarType } from './header.js';

export { TarError } from './header.js';

/** One archive member; `body()` must be consumed (or ignored) before asking for the next entry. */
export interface TarEntry {
  readonly name: string;
  readonly type: TarType;
  readonly typeflag: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkname: string;
  body(): AsyncGenerator<Buffer>;
}

/** Metadata headers (pax, GNU long names) are read into memory: cap them. */
const MAX_META = 64 * 1024;
/**
 * Zero padding accepted after the end-of-archive blocks: GNU tar and bsdtar pad the archive to
 * their record size (10240 bytes by default); anything beyond 1 MiB is not padding.
 */
const MAX_TRAILER = 1024 * 1024;
/** pax keys that change how other readers name or size a member; this reader does not guess. */
const REFUSED_PAX = /^(hdrcharset|GNU\.sparse\..*)$/;

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
  /** A metadata header was read: a member must follow it. */
  open?: boolean;
}

function set(p: Pending, key: keyof Pending, value: string | number): void {
  // Readers disagree on which of two values wins; one archive must mean one thing.
  if (p[key] !== undefined) throw new TarError(`${key} of one member given twice`);
  (p as Record<string, string | number>)[key] = value;
}

async function readMeta(r: ByteReader, h: TarHeader, p: Pending): Promise<void> {
  p.open = true;
  if (h.size > MAX_META) throw new TarError(`${h.type} header of ${h.size} bytes is too large`);
  const padded = Math.ceil(h.size / BLOCK) * BLOCK;
  const body = await r.read(padded);
  if (body.length < padded) throw new TarError('truncated metadata header');
  const data = body.subarray(0, h.size);
  // Other readers parse the whole padded block (Python's tarfile does): what lies beyond the
  // declared size must be nothing, or the two would read different names.
  if (!isZeroBlock(body.subarray(h.size)))
    throw new TarError(`${h.type} header: data beyond its declared size`);
  if (h.type === 'gnu-longname' || h.type === 'gnu-longlink') {
    const z = data.indexOf(0);
    const s = decodeUtf8(data.subarray(0, z === -1 ? data.length : z), 'GNU long name');
    set(p, h.type === 'gnu-longname' ? 'path' : 'linkpath', s);
    return;
  }
  const f = parsePax(data);
  for (const k of Object.keys(f)) {
    if (REFUSED_PAX.test(k)) throw new TarError(`pax header: ${k} is not supported`);
    if (h.type === 'pax-global' && (k === 'path' || k === 'linkpath' || k === 'size'))
      throw new TarError(`global pax header sets ${k} for every member`);
  }
  if (h.type === 'pax-global') return;
  if (f.path !== undefined) set(p, 'path', f.path);
  if (f.linkpath !== undefined) set(p, 'linkpath', f.linkpath);
  if (f.size !== undefined) {
    if (!/^\d{1,15}$/.test(f.size)) throw new TarError('pax header: bad size');
    set(p, 'size', Number(f.size));
  }
}

/** After the first zero block only zeros may follow, and not more than MAX_TRAILER of them. */
async function checkEnd(r: ByteReader): Promise<void> {
  let seen = 0;
  for (;;) {
    const chunk = await r.readSome(1 << 16);
    if (chunk.length === 0) return;
    seen += chunk.length;
    if (seen > MAX_TRAILER)
      throw new TarError(`more than ${MAX_TRAILER} bytes after the end-of-archive blocks`);
    if (!isZeroBlock(chunk)) throw new TarError('data after the end-of-archive blocks');
  }
}

async function skip(r: ByteReader, n: number, what: string): Promise<void> {
  for (let left = n; left > 0;) {
    const chunk = await r.readSome(Math.min(left, 1 << 16));
    if (chunk.length === 0) throw new TarError(`truncated ${what}`);
    left -= chunk.length;
  }
}

const META_TYPES: ReadonlySet<TarType> = new Set([
  'pax',
  'pax-global',
  'gnu-longname',
  'gnu-longlink',
]);

/**
 * Streams the members of a tar archive. Metadata headers (pax `x`/`g`, GNU `L`/`K`) are applied
 * to the next member and not yielded; every other type is yielded so the caller decides what to
 * refuse. Throws TarError on an empty input, a bad header, a truncated header or body, a member
 * other than a regular file that declares a body, and anything after the end-of-archive blocks
 * but zero padding. An archive that ends right after a member without end blocks is tolerated.
 */
export async function* readTar(
  source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>,
): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let pending: Pending = {};
  let headers = 0;
  try {
    for (;;) {
      const block = await r.read(BLOCK);
      const open = pending.open === true;
      if (block.length === 0) {
        if (headers === 0) throw new TarError('empty archive');
        if (open) throw new TarError('an extended header with no member after it');
        return;
      }
      if (block.length < BLOCK) throw new TarError('truncated header');
      if (isZeroBlock(block)) {
        if (open) throw new TarError('an extended header with no member after it');
        await checkEnd(r);
        return;
      }
      headers++;
      const h = decodeHeader(block);
      // Old GNU sparse members carry maps other readers expand into different content.
      if (h.typeflag === 'S') throw new TarError('GNU sparse members are not supported');
      if (META_TYPES.has(h.type)) {
        await readMeta(r, h, pending);
        continue;
      }
      const size = pending.size ?? h.size;
      const name = pending.path ?? h.name;
      if (h.type !== 'file' && size !== 0)
        throw new TarError(
          `member ${JSON.stringify(name)} (${h.type}) declares a ${size}-byte body`,
        );
      let remaining = size;
      const entry: TarEntry = {
        name,
        type: h.type,
        typeflag: h.typeflag,
        mode: h.mode,
        size,
        mtime: h.mtime,
        linkname: pending.linkpath ?? h.linkname,
        async *body() {
          while (remaining > 0) {
            const chunk = await r.readSome(Math.min(remaining, 1 << 16));
            if (chunk.length === 0) throw new TarError('truncated member body');
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      pending = {};
      yield entry;
      await skip(r, remaining, 'member body');
      await skip(r, (BLOCK - (size % BLOCK)) % BLOCK, 'member padding');
    }
  } finally {
    await r.close();
  }
}
