import { constants } from 'node:fs';
import { lstat, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OtaError } from './errors.js';
import { atomicWriteFile } from '@edgeflow/core';
import type { OtaPaths } from './paths.js';
import { parseRequestFile, requestResultSchema } from './request.js';
import type { RequestFile, RequestPolicy, RequestResult } from './request.js';

/** A request is a few hundred bytes; anything much larger is not one of ours. */
const MAX_REQUEST_FILE_BYTES = 16 * 1024;

function unsafe(path: string, why: string): OtaError {
  return new OtaError('EDGEFLOW_OTA_REQUEST_UNSAFE_FILE', `${path}: ${why}`);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * Reads an install request written by the unprivileged agent, as root. The file must be a
 * regular file (opened with O_NOFOLLOW), with a single link, mode 0600 (no group/other bits),
 * owned by the owner of its directory (the agent's StateDirectory under DynamicUser=, whose uid
 * is not fixed) or by `owner` when given; the directory must be a real directory (not a symlink)
 * that only its owner can write. Returns undefined when there is no request.
 *
 * Only reading happens here: root never writes into the agent's directory (see request.ts).
 */
export async function readRequestFile(
  path: string,
  policy: RequestPolicy,
  owner?: number,
): Promise<RequestFile | undefined> {
  const dir = dirname(path);
  let d;
  try {
    d = await lstat(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw unsafe(dir, `cannot inspect the directory (${errno(e) ?? String(e)})`);
  }
  if (!d.isDirectory()) throw unsafe(dir, 'the directory is a symlink or not a directory');
  if ((d.mode & 0o022) !== 0) throw unsafe(dir, 'the directory is group- or world-writable');
  if (owner !== undefined && d.uid !== owner)
    throw unsafe(dir, `the directory is owned by uid ${d.uid}, expected ${owner}`);
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    if (errno(e) === 'ELOOP') throw unsafe(path, 'is a symlink');
    throw unsafe(path, `cannot open (${errno(e) ?? String(e)})`);
  }
  let text: string;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw unsafe(path, 'is not a regular file');
    if (st.uid !== d.uid)
      throw unsafe(path, `is owned by uid ${st.uid}, its directory by uid ${d.uid}`);
    if ((st.mode & 0o077) !== 0)
      throw unsafe(path, `has mode 0${(st.mode & 0o777).toString(8)}, expected 0600`);
    if (st.nlink !== 1) throw unsafe(path, `has ${st.nlink} hard links, expected 1`);
    if (st.size > MAX_REQUEST_FILE_BYTES)
      throw unsafe(path, `is ${st.size} bytes, at most ${MAX_REQUEST_FILE_BYTES}`);
    text = await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new OtaError('EDGEFLOW_OTA_REQUEST_INVALID', `${path} is not JSON`);
  }
  return parseRequestFile(raw, policy);
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
