import { posix } from 'node:path';
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

/**
 * Checks what the schema cannot: symlink targets stay inside the release, no entry lives beneath a
 * symlink (the classic "link a dir to /etc, then write through it" escape), and size limits.
 */
export function checkManifestSafety(m: Manifest, limits: SizeLimits): void {
  if (m.files.length > limits.maxEntries) {
    throw new OtaError(
      'EDGEFLOW_OTA_TOO_LARGE',
      `manifest lists ${m.files.length} entries, limit ${limits.maxEntries}`,
    );
  }
  const links = new Set<string>();
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
      const resolved = posix.normalize(posix.join(posix.dirname(f.path), f.target));
      if (resolved === '..' || resolved.startsWith('../')) {
        throw new OtaError(
          'EDGEFLOW_OTA_UNSAFE_ENTRY',
          `symlink ${f.path} -> ${f.target} escapes the release`,
        );
      }
      links.add(f.path);
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
  for (const f of m.files) {
    const segs = f.path.split('/');
    for (let i = 1; i < segs.length; i++) {
      const parent = segs.slice(0, i).join('/');
      if (links.has(parent)) {
        throw new OtaError('EDGEFLOW_OTA_UNSAFE_ENTRY', `${f.path} lies beneath symlink ${parent}`);
      }
    }
  }
}
