import { ByteReader } from './byte-reader.js';
import { BLOCK, decodeHeader, isZeroBlock, parsePax } from './header.js';
import type { TarType } from './header.js';

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
 * Streams the members of a tar archive. Metadata headers (pax `x`, GNU `L`/`K`) are applied to
 * the next member and not yielded; every other type is yielded so the caller decides what to
 * refuse. Throws on a truncated archive or a bad header checksum.
 */
export async function* readTar(
  source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>,
): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let pending: { path?: string; linkpath?: string; size?: number } = {};
  try {
    for (;;) {
      const block = await r.read(BLOCK);
      if (block.length === 0) return; // tolerated: archive without end-of-archive blocks
      if (block.length < BLOCK) throw new Error('tar: truncated header');
      if (isZeroBlock(block)) return;
      const h = decodeHeader(block);
      const size =
        h.type === 'pax' || h.type === 'gnu-longname' || h.type === 'gnu-longlink'
          ? h.size
          : (pending.size ?? h.size);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (h.type === 'pax' || h.type === 'gnu-longname' || h.type === 'gnu-longlink') {
        if (size > MAX_META) throw new Error(`tar: ${h.type} header of ${size} bytes is too large`);
        const body = await r.read(padded);
        if (body.length < padded) throw new Error('tar: truncated metadata header');
        const data = body.subarray(0, size);
        if (h.type === 'pax') {
          const f = parsePax(data);
          if (f.path !== undefined) pending.path = f.path;
          if (f.linkpath !== undefined) pending.linkpath = f.linkpath;
          if (f.size !== undefined) {
            if (!/^\d+$/.test(f.size)) throw new Error('tar pax header: bad size');
            pending.size = Number(f.size);
          }
        } else {
          const s = data.toString('utf8').replace(/\0+$/, '');
          if (h.type === 'gnu-longname') pending.path = s;
          else pending.linkpath = s;
        }
        continue;
      }
      let remaining = h.type === 'file' ? size : 0;
      // Members other than regular files carry no body we care about, but skip any they declare.
      let skip = padded - remaining;
      const entry: TarEntry = {
        name: pending.path ?? h.name,
        type: h.type,
        typeflag: h.typeflag,
        mode: h.mode,
        size: h.type === 'file' ? size : 0,
        mtime: h.mtime,
        linkname: pending.linkpath ?? h.linkname,
        async *body() {
          while (remaining > 0) {
            const chunk = await r.readSome(Math.min(remaining, 1 << 16));
            if (chunk.length === 0) throw new Error('tar: truncated member body');
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      pending = {};
      yield entry;
      while (remaining > 0) {
        const chunk = await r.readSome(Math.min(remaining, 1 << 16));
        if (chunk.length === 0) throw new Error('tar: truncated member body');
        remaining -= chunk.length;
      }
      while (skip > 0) {
        const chunk = await r.readSome(Math.min(skip, 1 << 16));
        if (chunk.length === 0) throw new Error('tar: truncated member padding');
        skip -= chunk.length;
      }
    }
  } finally {
    await r.close();
  }
}
