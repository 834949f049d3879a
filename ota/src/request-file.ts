import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { errno } from './boundary.js';
import { OtaError } from './errors.js';
import { atomicWriteFile } from '@edgeflow/core';
import type { OtaPaths } from './paths.js';
import { Dir, UnsafePathError } from './safe-fs/index.js';
import { parseRequestFile, requestResultSchema } from './request.js';
import type { RequestFile, RequestPolicy, RequestResult } from './request.js';

/** A request is a few hundred bytes; anything much larger is not one of ours. */
const MAX_REQUEST_FILE_BYTES = 16 * 1024;

function unsafe(path: string, why: string): OtaError {
  return new OtaError('EDGEFLOW_OTA_REQUEST_UNSAFE_FILE', `${path}: ${why}`);
}

/**
 * Reads an install request written by the unprivileged agent, as root. The file must be a
 * regular file (opened with O_NOFOLLOW through its directory's descriptor, so no path component
 * is looked up twice), with a single link, mode 0600 (no group/other bits), owned by the owner
 * of its directory (the agent's StateDirectory under DynamicUser=, whose uid is not fixed) or by
 * `owner` when given; the directory must be a real directory (not a symlink) that only its owner
 * can write. Returns undefined when there is no request.
 *
 * Only reading happens here: root never writes into the agent's directory (see request.ts).
 */
export async function readRequestFile(
  path: string,
  policy: RequestPolicy,
  owner?: number,
): Promise<RequestFile | undefined> {
  const d = await openRequestDir(dirname(path));
  if (!d) return undefined;
  let text: string;
  try {
    if ((d.mode & 0o022) !== 0) throw unsafe(d.path, 'the directory is group- or world-writable');
    if (owner !== undefined && d.uid !== owner)
      throw unsafe(d.path, `the directory is owned by uid ${d.uid}, expected ${owner}`);
    const r = await d.openRead(basename(path)).catch((e: unknown) => {
      if (e instanceof UnsafePathError) throw unsafe(path, e.reason);
      throw unsafe(path, `cannot open (${errno(e) ?? String(e)})`);
    });
    if (!r) return undefined;
    try {
      const st = r.st;
      if (st.uid !== d.uid)
        throw unsafe(path, `is owned by uid ${st.uid}, its directory by uid ${d.uid}`);
      if ((st.mode & 0o077) !== 0)
        throw unsafe(path, `has mode 0${(st.mode & 0o777).toString(8)}, expected 0600`);
      if (st.nlink !== 1) throw unsafe(path, `has ${st.nlink} hard links, expected 1`);
      if (st.size > MAX_REQUEST_FILE_BYTES)
        throw unsafe(path, `is ${st.size} bytes, at most ${MAX_REQUEST_FILE_BYTES}`);
      text = await r.fh.readFile('utf8');
    } finally {
      await r.fh.close();
    }
  } finally {
    await d.close();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OtaError('EDGEFLOW_OTA_REQUEST_INVALID', `${path} is not JSON`);
  }
  return parseRequestFile(raw, policy);
}

/** The request's directory, opened without following a link; undefined when missing. */
async function openRequestDir(dir: string): Promise<Dir | undefined> {
  let parent: Dir;
  try {
    parent = await Dir.open(dirname(dir));
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    if (e instanceof UnsafePathError) throw unsafe(e.path, e.reason);
    throw unsafe(dir, `cannot inspect the directory (${errno(e) ?? String(e)})`);
  }
  try {
    return await parent.childIfExists(basename(dir));
  } catch (e) {
    if (e instanceof UnsafePathError)
      throw unsafe(dir, 'the directory is a symlink or not a directory');
    throw unsafe(dir, `cannot inspect the directory (${errno(e) ?? String(e)})`);
  } finally {
    await parent.close();
  }
}

/** Reads the last request result; missing or invalid reads as none. */
export async function readRequestResult(paths: OtaPaths): Promise<RequestResult | undefined> {
  try {
    const r = requestResultSchema.safeParse(
      JSON.parse(await readFile(paths.requestResultFile, 'utf8')),
    );
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the request result atomically, world-readable (the agent reads it, like ota.json). */
export async function writeRequestResult(paths: OtaPaths, r: RequestResult): Promise<void> {
  await atomicWriteFile(paths.requestResultFile, `${JSON.stringify(r)}\n`, { mode: 0o644 });
}
