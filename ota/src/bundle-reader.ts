import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { OtaError } from './errors.js';
import {
  DEFAULT_LIMITS,
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  PAYLOAD_PREFIX,
  SIGNATURE_NAME,
  checkManifestSafety,
  safeRelPath,
} from './bundle-format.js';
import type { SizeLimits } from './bundle-format.js';
import { parseSignature, verifyManifest } from './keys.js';
import type { DetachedSignature, TrustedKeys } from './keys.js';
import { parseManifest } from './manifest.js';
import type { Manifest, ManifestEntry, ManifestFile } from './manifest.js';
import { readTar } from './tar/tar-reader.js';
import type { TarEntry } from './tar/tar-reader.js';

/** Receives verified payload members (in archive order) during a payload walk. */
export interface PayloadSink {
  /** Must consume `chunks` fully; the walker checks size and sha256 once it has. */
  file(path: string, mode: 0o644 | 0o755, chunks: AsyncIterable<Buffer>): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  dir(path: string): Promise<void>;
}

/** An opened bundle: manifest and signature read, payload not yet. */
export interface OpenBundle {
  readonly manifestBytes: Buffer;
  readonly manifest: Readonly<Manifest>;
  readonly signature: DetachedSignature | undefined;
  /** Verifies the signature against trusted keys; returns the key id. */
  verify(keys: TrustedKeys): string;
  /** Streams the payload into `sink`, refusing unsafe or unlisted members and digest mismatches. */
  walkPayload(sink: PayloadSink, limits?: SizeLimits): Promise<void>;
  close(): Promise<void>;
}

function bad(msg: string, cause?: unknown): OtaError {
  return new OtaError('EDGEFLOW_OTA_BAD_BUNDLE', msg, cause === undefined ? undefined : { cause });
}

/**
 * A failure of the archive itself (TarError, a gzip error, a read error of the file) as
 * EDGEFLOW_OTA_BAD_BUNDLE; an OtaError passes through. Every malformed input gets a code.
 */
function asBundleError(file: string, cause: unknown): OtaError {
  if (cause instanceof OtaError) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return bad(`${file}: ${why}`, cause);
}

/** A member's body, with archive failures mapped by {@link asBundleError}. */
async function* bodyOf(file: string, e: TarEntry): AsyncGenerator<Buffer> {
  const it = e.body()[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<Buffer>;
    try {
      r = await it.next();
    } catch (cause) {
      throw asBundleError(file, cause);
    }
    if (r.done) return;
    yield r.value;
  }
}

async function readSmall(file: string, e: TarEntry, max: number): Promise<Buffer> {
  if (e.size > max) throw bad(`${e.name} is ${e.size} bytes, limit ${max}`);
  const parts: Buffer[] = [];
  for await (const c of bodyOf(file, e)) parts.push(c);
  return Buffer.concat(parts);
}

/** Directories a manifest implies: every proper ancestor of a listed path. */
function impliedDirs(m: Manifest): Set<string> {
  const out = new Set<string>();
  for (const f of m.files) {
    const segs = f.path.split('/');
    for (let i = 1; i < segs.length; i++) out.add(segs.slice(0, i).join('/'));
  }
  return out;
}

/** Opens a .tar.gz bundle and reads manifest.json (+ manifest.sig) from its head. */
export async function openBundle(file: string): Promise<OpenBundle> {
  const stream = createReadStream(file).pipe(createGunzip());
  const it = readTar(stream)[Symbol.asyncIterator]();
  const next = async (): Promise<TarEntry | undefined> => {
    try {
      const r = await it.next();
      return r.done ? undefined : r.value;
    } catch (cause) {
      throw asBundleError(file, cause);
    }
  };
  const close = async (): Promise<void> => {
    await it.return?.(undefined);
    stream.destroy();
  };
  try {
    const first = await next();
    if (!first || first.name !== MANIFEST_NAME || first.type !== 'file') {
      throw bad(`${file}: the first member must be ${MANIFEST_NAME}`);
    }
    const manifestBytes = await readSmall(file, first, MAX_MANIFEST_BYTES);
    const manifest = parseManifest(manifestBytes);
    let peeked = await next();
    let signature: DetachedSignature | undefined;
    if (peeked?.name === SIGNATURE_NAME && peeked.type === 'file') {
      signature = parseSignature(await readSmall(file, peeked, 4096));
      peeked = await next();
    }
    let walked = false;
    return {
      manifestBytes,
      manifest,
      signature,
      verify(keys) {
        if (!signature)
          throw new OtaError('EDGEFLOW_OTA_MISSING_SIGNATURE', `${file} has no ${SIGNATURE_NAME}`);
        return verifyManifest(manifestBytes, signature, keys);
      },
      async walkPayload(sink, limits = DEFAULT_LIMITS) {
        if (walked) throw new Error('walkPayload called twice');
        walked = true;
        checkManifestSafety(manifest, limits);
        const want = new Map<string, ManifestEntry>(manifest.files.map((f) => [f.path, f]));
        const ctx: WalkContext = { file, want, dirs: impliedDirs(manifest), seen: new Set() };
        let total = 0;
        for (let e = peeked; e; e = await next()) {
          await walkOne(e, ctx, sink, limits, (n) => {
            total += n;
            if (total > limits.maxTotalSize) {
              throw new OtaError(
                'EDGEFLOW_OTA_TOO_LARGE',
                `payload exceeds ${limits.maxTotalSize} bytes`,
              );
            }
          });
        }
        for (const p of want.keys()) {
          if (!ctx.seen.has(p))
            throw new OtaError(
              'EDGEFLOW_OTA_DIGEST_MISMATCH',
              `${p} is listed in the manifest but missing`,
            );
        }
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

interface WalkContext {
  readonly file: string;
  /** Listed files and symlinks by path. */
  readonly want: ReadonlyMap<string, ManifestEntry>;
  /** Directories the manifest implies (ancestors of listed paths): the only ones accepted. */
  readonly dirs: ReadonlySet<string>;
  readonly seen: Set<string>;
}

async function walkOne(
  e: TarEntry,
  ctx: WalkContext,
  sink: PayloadSink,
  limits: SizeLimits,
  account: (n: number) => void,
): Promise<void> {
  if (e.name === PAYLOAD_PREFIX && e.type === 'dir') return;
  if (!e.name.startsWith(PAYLOAD_PREFIX)) {
    throw new OtaError(
      'EDGEFLOW_OTA_UNSAFE_ENTRY',
      `member ${JSON.stringify(e.name)} is outside ${PAYLOAD_PREFIX}`,
    );
  }
  const rel = e.name.slice(PAYLOAD_PREFIX.length);
  const path = safeRelPath(rel, 'bundle');
  if (e.type === 'dir') {
    // Every member must be listed: a directory only as the parent of something listed.
    if (!ctx.dirs.has(path) || ctx.want.has(path)) {
      throw new OtaError(
        'EDGEFLOW_OTA_UNSAFE_ENTRY',
        `directory member ${path} is not listed in the manifest (as the parent of a listed file)`,
      );
    }
    return sink.dir(path);
  }
  if (rel.endsWith('/')) {
    throw new OtaError('EDGEFLOW_OTA_UNSAFE_ENTRY', `${e.type} member ${rel} ends with "/"`);
  }
  if (e.type !== 'file' && e.type !== 'symlink') {
    throw new OtaError(
      'EDGEFLOW_OTA_UNSAFE_ENTRY',
      `member ${path} has tar type ${JSON.stringify(e.typeflag)} (${e.type}): only files, dirs and symlinks are allowed`,
    );
  }
  const m = ctx.want.get(path);
  if (!m || m.type !== e.type) {
    throw new OtaError(
      'EDGEFLOW_OTA_DIGEST_MISMATCH',
      `member ${path} (${e.type}) is not listed in the manifest`,
    );
  }
  const seen = ctx.seen;
  if (seen.has(path))
    throw new OtaError('EDGEFLOW_OTA_UNSAFE_ENTRY', `member ${path} appears twice`);
  seen.add(path);
  if (m.type === 'symlink') {
    if (e.linkname !== m.target) {
      throw new OtaError(
        'EDGEFLOW_OTA_DIGEST_MISMATCH',
        `symlink ${path} -> ${e.linkname}, manifest says ${m.target}`,
      );
    }
    return sink.symlink(path, m.target);
  }
  return writeChecked(e, path, m, ctx, sink, limits, account);
}

/** Streams a listed file into the sink, checking its size, the limit and its sha256. */
async function writeChecked(
  e: TarEntry,
  path: string,
  m: ManifestFile,
  ctx: WalkContext,
  sink: PayloadSink,
  limits: SizeLimits,
  account: (n: number) => void,
): Promise<void> {
  if (e.size !== m.size) {
    throw new OtaError(
      'EDGEFLOW_OTA_DIGEST_MISMATCH',
      `${path} is ${e.size} bytes in the archive, ${m.size} in the manifest`,
    );
  }
  if (e.size > limits.maxFileSize) {
    throw new OtaError(
      'EDGEFLOW_OTA_TOO_LARGE',
      `${path} is ${e.size} bytes, limit ${limits.maxFileSize}`,
    );
  }
  const hash = createHash('sha256');
  let n = 0;
  let finished = false;
  async function* checked(): AsyncGenerator<Buffer> {
    for await (const c of bodyOf(ctx.file, e)) {
      n += c.length;
      account(c.length);
      hash.update(c);
      yield c;
    }
    finished = true;
  }
  await sink.file(path, m.mode, checked());
  if (!finished) {
    for await (const _ of checked()) {
      // drain what the sink left unread so the digest covers the whole member
    }
  }
  const got = hash.digest('hex');
  if (n !== m.size || got !== m.sha256) {
    throw new OtaError(
      'EDGEFLOW_OTA_DIGEST_MISMATCH',
      `${path}: sha256 ${got}, manifest says ${m.sha256}`,
    );
  }
}
