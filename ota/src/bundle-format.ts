import { OtaError } from './errors.js';
import type { Manifest } from './manifest.js';

/** Member names inside a bundle: manifest first, then its detached signature, then the payload. */
export const MANIFEST_NAME = 'manifest.json';
export const SIGNATURE_NAME = 'manifest.sig';
export const PAYLOAD_PREFIX = 'payload/';

/** Limits applied to every bundle read; the defaults suit a gateway agent release. */
export interface SizeLimits {
  /** Largest single payload file, bytes. */
  readonly maxFileSize: number;
  /** Largest sum of payload file sizes, bytes. */
  readonly maxTotalSize: number;
  /** Largest number of payload entries. */
  readonly maxEntries: number;
}

export const DEFAULT_LIMITS: SizeLimits = {
  maxFileSize: 256 * 1024 * 1024,
  maxTotalSize: 1024 * 1024 * 1024,
  maxEntries: 100_000,
};

/** The manifest itself is read into memory: cap it. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Validates a payload-relative path: relative, no NUL, no empty/"."/".." segments.
 * Returns the path without a trailing slash.
 */
export function safeRelPath(p: string, where: string): string {
  const s = p.endsWith('/') ? p.slice(0, -1) : p;
  if (
    s === '' ||
    s.startsWith('/') ||
    s.includes('\0') ||
    s.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')
  ) {
    throw new OtaError('EDGEFLOW_OTA_UNSAFE_ENTRY', `${where}: unsafe path ${JSON.stringify(p)}`);
  }
  return s;
}

/** Symlinks resolved while following one link (Linux's own limit, path_resolution(7)). */
const MAX_LINK_HOPS = 40;

/**
 * Resolves link `path` the way the kernel will once the release is on disk: component by
 * component, each one that is itself a listed link replaced by its target (relative to the link's
 * directory), ".." popping a level. Text normalisation is not enough: in
 * `a/b/c/up -> ../../..`, `esc -> a/b/c/up/../../../x`, the ".." after `up` apply to the release
 * root, not to `a/b/c`. Throws when a ".." would leave the release root or the links loop.
 * Returns the release-relative path the link names (which need not exist).
 */
export function resolveLink(links: ReadonlyMap<string, string>, path: string): string {
  let hops = 0;
  const unsafe = (why: string): OtaError =>
    new OtaError('EDGEFLOW_OTA_UNSAFE_ENTRY', `symlink ${path} -> ${links.get(path) ?? ''} ${why}`);
  const walk = (base: readonly string[], target: string): string[] => {
    const out = [...base];
    for (const seg of target.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (out.length === 0) throw unsafe('escapes the release (through the links before it)');
        out.pop();
        continue;
      }
      out.push(seg);
      const next = links.get(out.join('/'));
      if (next === undefined) continue;
      if (++hops > MAX_LINK_HOPS) throw unsafe(`loops (more than ${MAX_LINK_HOPS} links)`);
      out.pop();
      out.splice(0, out.length, ...walk(out, next));
    }
    return out;
  };
  const target = links.get(path);
  if (target === undefined) return path;
  hops++;
  return walk(path.split('/').slice(0, -1), target).join('/');
}

/**
 * Checks what the schema cannot: every symlink, resolved through the links before and after it,
 * stays inside the release; no entry lives beneath a symlink (the classic "link a dir to /etc,
 * then write through it" escape); size limits.
 */
export function checkManifestSafety(m: Manifest, limits: SizeLimits): void {
  if (m.files.length > limits.maxEntries) {
    throw new OtaError(
      'EDGEFLOW_OTA_TOO_LARGE',
      `manifest lists ${m.files.length} entries, limit ${limits.maxEntries}`,
    );
  }
  const links = new Map<string, string>();
  let total = 0;
  for (const f of m.files) {
    safeRelPath(f.path, 'manifest.json');
    if (f.type === 'symlink') {
      if (f.target.startsWith('/') || f.target.includes('\0')) {
        throw new OtaError(
          'EDGEFLOW_OTA_UNSAFE_ENTRY',
          `symlink ${f.path} -> ${f.target} is absolute`,
        );
      }
      links.set(f.path, f.target);
    } else {
      if (f.size > limits.maxFileSize) {
        throw new OtaError(
          'EDGEFLOW_OTA_TOO_LARGE',
          `${f.path} is ${f.size} bytes, limit ${limits.maxFileSize}`,
        );
      }
      total += f.size;
    }
  }
  if (total > limits.maxTotalSize) {
    throw new OtaError(
      'EDGEFLOW_OTA_TOO_LARGE',
      `payload is ${total} bytes, limit ${limits.maxTotalSize}`,
    );
  }
  for (const path of links.keys()) resolveLink(links, path);
  // A listed path is a file or a link, never also a directory that holds another listed path.
  const listed = new Set(m.files.map((f) => f.path));
  for (const f of m.files) {
    const segs = f.path.split('/');
    for (let i = 1; i < segs.length; i++) {
      const parent = segs.slice(0, i).join('/');
      if (listed.has(parent)) {
        throw new OtaError(
          'EDGEFLOW_OTA_UNSAFE_ENTRY',
          `${f.path} lies beneath ${links.has(parent) ? 'symlink' : 'file'} ${parent}`,
        );
      }
    }
  }
}
