import { BLOCK, encodeHeader, needsPax, paxBody } from './header.js';

/** A member to write. Bodies are streamed; `size` must equal the bytes the body yields. */
export interface TarWriteEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtime: number;
  size?: number;
  linkname?: string;
  body?: Buffer | (() => AsyncIterable<Buffer | Uint8Array>);
}

function pad(n: number): Buffer {
  const r = n % BLOCK;
  return Buffer.alloc(r === 0 ? 0 : BLOCK - r);
}

/** Serialises members as a ustar archive (pax `x` headers for long names), ending with 2 zero blocks. */
export async function* writeTar(
  entries: Iterable<TarWriteEntry> | AsyncIterable<TarWriteEntry>,
): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    const size = e.type === 'file' ? (e.size ?? (Buffer.isBuffer(e.body) ? e.body.length : 0)) : 0;
    if (needsPax(e.name, e.linkname)) {
      const fields: Record<string, string> = { path: e.name };
      if (e.linkname) fields.linkpath = e.linkname;
      const body = paxBody(fields);
      yield encodeHeader({
        name: 'PaxHeader',
        type: 'pax',
        mode: 0o644,
        size: body.length,
        mtime: e.mtime,
      });
      yield body;
      yield pad(body.length);
    }
    yield encodeHeader({
      name: e.name,
      type: e.type,
      mode: e.mode,
      size,
      mtime: e.mtime,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    });
    if (e.type !== 'file') continue;
    let written = 0;
    if (Buffer.isBuffer(e.body)) {
      written = e.body.length;
      yield e.body;
    } else if (e.body) {
      for await (const c of e.body()) {
        written += c.length;
        if (written > size)
          throw new Error(`tar: ${e.name} grew beyond ${size} bytes while archiving`);
        yield Buffer.from(c);
      }
    }
    if (written !== size) throw new Error(`tar: ${e.name} is ${written} bytes, expected ${size}`);
    yield pad(size);
  }
  yield Buffer.alloc(BLOCK * 2);
}
