import * as fsp from 'node:fs/promises';
import { join } from 'node:path';

/** The slice of node:fs/promises the detector reads; injected so tests use fixture trees. */
export interface HostFs {
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ isCharacterDevice(): boolean; isFile(): boolean }>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
}

/** Production filesystem. */
export const nodeHostFs: HostFs = {
  readFile: (p) => fsp.readFile(p),
  readdir: (p) => fsp.readdir(p),
  stat: (p) => fsp.stat(p),
  readlink: (p) => fsp.readlink(p),
  realpath: (p) => fsp.realpath(p),
};

/** A host path under the configured root ('/' in production, a fixture dir in tests). */
export function hostPath(root: string, rel: string): string {
  return join(root, rel);
}

/** Reads a small text file, trimmed of whitespace and NULs; undefined when absent. */
export async function readText(fs: HostFs, path: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path)).toString('utf8').replace(/\0+$/, '').trim();
  } catch {
    return undefined;
  }
}

/** Lists a directory; empty when it does not exist. */
export async function listDir(fs: HostFs, path: string): Promise<string[]> {
  try {
    return await fs.readdir(path);
  } catch {
    return [];
  }
}
