import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import {
  MANIFEST_NAME,
  PAYLOAD_PREFIX,
  SIGNATURE_NAME,
  DEFAULT_LIMITS,
  checkManifestSafety,
} from './bundle-format.js';
import { OtaError } from './errors.js';
import { atomicReplace } from '@edgeflow/core';
import { signManifest } from './keys.js';
import { MANIFEST_FORMAT, parseManifest } from './manifest.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import { openBundle } from './bundle-reader.js';
import type { PayloadSink } from './bundle-reader.js';
import { readTar } from './tar/tar-reader.js';
import { writeTar } from './tar/tar-writer.js';
import type { TarWriteEntry } from './tar/tar-writer.js';

/** What `edgeflow ota build` needs besides the payload directory. */
export interface BuildOptions {
  readonly dir: string;
  readonly out: string;
  readonly name: string;
  readonly version: string;
  readonly boards: readonly string[];
  readonly minAgentVersion?: string;
  readonly minHalVersion?: string;
  readonly rollout?: number;
  /** ISO time; defaults to now. Also used as every member's mtime so builds are reproducible. */
  readonly created?: string;
  /** Sign while building (PEM Ed25519 private key). */
  readonly privateKeyPem?: string;
}

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(p)) h.update(c as Buffer);
  return h.digest('hex');
}

async function scan(dir: string, rel: string, out: ManifestEntry[]): Promise<void> {
  const names = (await readdir(join(dir, rel))).sort();
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(dir, r));
    if (st.isDirectory()) await scan(dir, r, out);
    else if (st.isSymbolicLink())
      out.push({ path: r, type: 'symlink', target: await readlink(join(dir, r)) });
    else if (st.isFile()) {
      out.push({
        path: r,
        type: 'file',
        size: st.size,
        sha256: await sha256File(join(dir, r)),
        mode: st.mode & 0o111 ? 0o755 : 0o644,
      });
    } else {
      throw new OtaError(
        'EDGEFLOW_OTA_UNSAFE_ENTRY',
        `${join(dir, r)} is not a file, dir or symlink`,
      );
    }
  }
}

function manifestBytes(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8');
}

async function writeBundle(
  out: string,
  manifest: Buffer,
  sig: Buffer | undefined,
  mtime: number,
  payload: () => AsyncIterable<TarWriteEntry>,
): Promise<void> {
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    yield { name: MANIFEST_NAME, type: 'file', mode: 0o644, mtime, body: manifest };
    if (sig) yield { name: SIGNATURE_NAME, type: 'file', mode: 0o644, mtime, body: sig };
    yield* payload();
  }
  await atomicReplace(
    out,
    (fh) =>
      pipeline(
        Readable.from(writeTar(entries())),
        createGzip({ level: 9 }),
        // By descriptor: atomicReplace fsyncs and closes the handle after the stream finished.
        createWriteStream('', { fd: fh.fd, autoClose: false }),
      ),
    { mode: 0o644 },
  );
}

/** Builds a bundle from a directory: manifest.json (+ manifest.sig if a key is given), payload/. */
export async function buildBundle(o: BuildOptions): Promise<Readonly<Manifest>> {
  const files: ManifestEntry[] = [];
  await scan(o.dir, '', files);
  const created = o.created ?? new Date().toISOString();
  const raw: Manifest = {
    format: MANIFEST_FORMAT,
    name: o.name,
    version: o.version,
    boards: [...o.boards],
    ...(o.minAgentVersion !== undefined ? { minAgentVersion: o.minAgentVersion } : {}),
    ...(o.minHalVersion !== undefined ? { minHalVersion: o.minHalVersion } : {}),
    rollout: o.rollout ?? 100,
    created,
    files,
  };
  const bytes = manifestBytes(raw);
  const manifest = parseManifest(bytes); // validates what we are about to publish
  checkManifestSafety(manifest, DEFAULT_LIMITS);
  const sig = o.privateKeyPem
    ? Buffer.from(JSON.stringify(signManifest(bytes, o.privateKeyPem)))
    : undefined;
  const mtime = Math.floor(Date.parse(created) / 1000);
  // eslint-disable-next-line @typescript-eslint/require-await -- writeBundle takes an async source
  await writeBundle(o.out, bytes, sig, mtime, async function* () {
    for (const f of files) {
      const name = PAYLOAD_PREFIX + f.path;
      if (f.type === 'symlink')
        yield { name, type: 'symlink', mode: 0o777, mtime, linkname: f.target };
      else
        yield {
          name,
          type: 'file',
          mode: f.mode,
          mtime,
          size: f.size,
          body: () => createReadStream(join(o.dir, f.path)),
        };
    }
  });
  return manifest;
}

/**
 * Writes a copy of a bundle with a (new) detached signature. A first pass re-checks the payload
 * against the manifest, so a signature is never put on a bundle whose files do not match; a second
 * pass streams the members into the output.
 */
export async function signBundle(input: string, out: string, privatePem: string): Promise<string> {
  const b = await openBundle(input);
  let manifest: Buffer;
  let mtime: number;
  try {
    await b.walkPayload(drainSink);
    manifest = b.manifestBytes;
    mtime = Math.floor(Date.parse(b.manifest.created) / 1000);
  } finally {
    await b.close();
  }
  const sig = signManifest(manifest, privatePem);
  await writeBundle(out, manifest, Buffer.from(JSON.stringify(sig)), mtime, async function* () {
    for await (const e of readTar(createReadStream(input).pipe(createGunzip()))) {
      if (e.name === MANIFEST_NAME || e.name === SIGNATURE_NAME) continue;
      if (e.type === 'file')
        yield {
          name: e.name,
          type: 'file',
          mode: e.mode,
          mtime,
          size: e.size,
          body: () => e.body(),
        };
      else if (e.type === 'symlink')
        yield { name: e.name, type: 'symlink', mode: 0o777, mtime, linkname: e.linkname };
      else if (e.type === 'dir') yield { name: e.name, type: 'dir', mode: 0o755, mtime };
    }
  });
  return sig.keyId;
}

/** A payload sink that only reads (verification without extraction). */
export const drainSink: PayloadSink = {
  async file(_path, _mode, chunks) {
    for await (const _ of chunks) {
      // digest is computed by the walker
    }
  },
  symlink: async () => {},
  dir: async () => {},
};
