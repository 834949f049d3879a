// The report archive's tar layer, on @edgeflow/ota's tar reader and writer (the project's one
// tar): regular files only, mode 0644, uid/gid 0, one mtime from the caller, so the same
// content always gives the same bytes (the digest of the content part is a TPM quote's nonce).
import { readTar, writeTar } from '@edgeflow/ota';
import { EdgeReadyError } from '../errors.js';

const BLOCK = 512;
/** Two zero blocks end a tar archive (POSIX ustar). */
const END_BYTES = 2 * BLOCK;

/** One member to write. */
export interface TarFile {
  readonly name: string;
  readonly data: Buffer;
}

/** A member read back, with the byte offset of its header in the archive. */
export interface ArchiveMember extends TarFile {
  readonly offset: number;
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** The members' bytes (headers, bodies, padding) without the end-of-archive blocks. */
export async function tarMembers(files: readonly TarFile[], mtimeSec: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const entries = files.map((f) => ({
    name: f.name,
    type: 'file' as const,
    mode: 0o644,
    mtime: mtimeSec,
    body: f.data,
  }));
  for await (const c of writeTar(entries)) chunks.push(c);
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - END_BYTES);
}

/** The end-of-archive marker. */
export function tarEnd(): Buffer {
  return Buffer.alloc(END_BYTES);
}

function bad(msg: string, cause?: unknown): EdgeReadyError {
  return new EdgeReadyError('EDGEFLOW_ER_ARCHIVE_FORMAT', msg, cause ? { cause } : {});
}

/**
 * Reads an archive as {@link tarMembers} + {@link tarEnd} write it, and refuses anything else:
 * a member that is not a plain regular file, any extended header (it would shift the offsets
 * the verification digests), a missing end marker, or any byte after it.
 */
export async function readArchive(buf: Buffer): Promise<ArchiveMember[]> {
  const out: ArchiveMember[] = [];
  let offset = 0;
  try {
    for await (const e of readTar([buf])) {
      if (e.typeflag !== '0')
        throw bad(
          `member ${e.name} at offset ${offset} is not a regular file (type ${e.typeflag})`,
        );
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(c);
      const data = Buffer.concat(parts);
      out.push({ name: e.name, data, offset });
      offset += BLOCK + padded(data.length);
    }
  } catch (err) {
    if (err instanceof EdgeReadyError) throw err;
    throw bad((err as Error).message, err);
  }
  // The reader stops at the first zero block; everything from here must be the marker alone.
  const rest = buf.subarray(offset);
  if (rest.length !== END_BYTES || !rest.every((b) => b === 0))
    throw bad(
      `expected the end-of-archive marker (${END_BYTES} zero bytes) at offset ${offset}, found ${rest.length} bytes` +
        (rest.every((b) => b === 0) ? '' : ' that are not all zero'),
    );
  return out;
}
