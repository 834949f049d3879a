import { createHash } from 'node:crypto';
import { createReadStream, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { OtaError } from './errors.js';
import { fsyncDir } from '@edgeflow/core';
import { redactUrl } from './request.js';

export interface DownloadOptions {
  readonly url: string;
  /** Expected sha256 of the whole bundle file (lowercase hex); also names the partial file. */
  readonly sha256: string;
  readonly dir: string;
  readonly maxBytes: number;
  readonly timeoutMs?: number;
}

function request(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<IncomingMessage> {
  const get = url.protocol === 'https:' ? httpsGet : url.protocol === 'http:' ? httpGet : undefined;
  if (!get) throw new OtaError('EDGEFLOW_OTA_USAGE', `unsupported URL scheme ${url.protocol}`);
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, timeout: timeoutMs }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no data for ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

async function sha256Of(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(p)) h.update(c as Buffer);
  return h.digest('hex');
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads a bundle into `<dir>/<sha256>.tar.gz`. Partial data is kept in `<sha256>.part` and
 * resumed with a Range request next time (the digest in the name guarantees the part belongs to
 * this bundle). The size is bounded and the digest checked before the file is used.
 */
export async function downloadBundle(o: DownloadOptions): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(o.sha256))
    throw new OtaError('EDGEFLOW_OTA_USAGE', '--sha256 must be 64 lowercase hex digits');
  await mkdir(o.dir, { recursive: true });
  const final = join(o.dir, `${o.sha256}.tar.gz`);
  if ((await sizeOf(final)) > 0 && (await sha256Of(final)) === o.sha256) return final;
  const part = join(o.dir, `${o.sha256}.part`);
  let url = new URL(o.url);
  const fail = (msg: string, cause?: unknown): OtaError =>
    new OtaError(
      'EDGEFLOW_OTA_DOWNLOAD_FAILED',
      `${redactUrl(o.url)}: ${msg}`,
      cause === undefined ? undefined : { cause },
    );
  for (let redirects = 0; ; redirects++) {
    const offset = await sizeOf(part);
    let res: IncomingMessage;
    try {
      res = await request(
        url,
        offset > 0 ? { range: `bytes=${offset}-` } : {},
        o.timeoutMs ?? 30_000,
      );
    } catch (e) {
      throw fail(e instanceof Error ? e.message : String(e), e);
    }
    const next = judgeResponse(res, offset, redirects < 5, o, fail);
    if (next.kind === 'redirect') {
      url = new URL(next.location, url);
      continue;
    }
    if (next.kind === 'body') await appendBody(res, part, next.start, o, fail);
    break;
  }
  const got = await sha256Of(part);
  if (got !== o.sha256) {
    await rm(part, { force: true });
    throw new OtaError(
      'EDGEFLOW_OTA_DIGEST_MISMATCH',
      `${redactUrl(o.url)}: sha256 ${got}, expected ${o.sha256}`,
    );
  }
  await rename(part, final);
  await fsyncDir(o.dir);
  return final;
}

type Fail = (msg: string, cause?: unknown) => OtaError;

/**
 * What a response means for the download: follow a redirect, the part is already whole (416 on
 * a resume), or a body to append at `start`. Anything else throws (the response is drained).
 */
function judgeResponse(
  res: IncomingMessage,
  offset: number,
  mayRedirect: boolean,
  o: DownloadOptions,
  fail: Fail,
): { kind: 'redirect'; location: string } | { kind: 'complete' } | { kind: 'body'; start: number } {
  const status = res.statusCode ?? 0;
  const refuse = (err: OtaError): never => {
    res.resume();
    throw err;
  };
  if (status >= 300 && status < 400 && res.headers.location && mayRedirect) {
    res.resume();
    return { kind: 'redirect', location: res.headers.location };
  }
  if (status === 416 && offset > 0) {
    res.resume(); // the part is already complete: fall through to the digest check
    return { kind: 'complete' };
  }
  if (status !== 200 && status !== 206) refuse(fail(`HTTP ${status}`));
  let start = 0;
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== offset)
      refuse(fail(`unexpected Content-Range ${res.headers['content-range'] ?? '(none)'}`));
    start = offset;
  }
  const total =
    status === 206
      ? Number(/\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1] ?? NaN)
      : Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(total) && total > o.maxBytes)
    refuse(
      new OtaError(
        'EDGEFLOW_OTA_TOO_LARGE',
        `${redactUrl(o.url)} is ${total} bytes, limit ${o.maxBytes}`,
      ),
    );
  return { kind: 'body', start };
}

/**
 * Appends the response body to the part file from `start`, fsynced. A cut transfer keeps what
 * arrived (for the next resume); a refusal (too large while streaming) removes the part.
 */
async function appendBody(
  res: IncomingMessage,
  part: string,
  start: number,
  o: DownloadOptions,
  fail: Fail,
): Promise<void> {
  // Listen before the first await: a response cut meanwhile would otherwise end unseen.
  const sink = receive(res, start, o);
  const fh = await open(part, start === 0 ? 'w' : 'a', 0o600);
  let written = start;
  try {
    written = await sink.writeTo(fh.fd);
    await fh.sync();
  } catch (e) {
    if (e instanceof OtaError) {
      await fh.close();
      await rm(part, { force: true });
      throw e;
    }
    written = (e as { written?: number }).written ?? written;
    await fh.sync().catch(() => undefined);
    throw fail(`transfer interrupted after ${written} bytes (kept for resume)`, e);
  } finally {
    await fh.close().catch(() => undefined);
  }
  if (!res.complete) throw fail(`transfer interrupted after ${written} bytes (kept for resume)`);
}

/**
 * Collects the body from the moment it is called and appends it to the file once `writeTo(fd)`
 * gives one. Chunks are written synchronously from the 'data' events: an async iterator over a
 * response that is cut drops the chunks still buffered when the socket closes, and those are
 * exactly the bytes a resume should keep. (The OTA tool is a CLI, not the agent's event loop:
 * a short blocking write per chunk is fine.)
 */
function receive(
  res: IncomingMessage,
  start: number,
  o: DownloadOptions,
): { writeTo: (fd: number) => Promise<number> } {
  let written = start;
  let fd: number | undefined;
  const pending: Buffer[] = [];
  let outcome: { err: Error | undefined } | undefined;
  let settle: ((o: { err: Error | undefined }) => void) | undefined;
  const done = (err?: unknown): void => {
    if (outcome !== undefined) return;
    outcome = {
      err:
        err === undefined
          ? undefined
          : Object.assign(err instanceof Error ? err : new Error('download failed'), { written }),
    };
    settle?.(outcome);
  };
  const put = (c: Buffer): void => {
    if (fd === undefined) {
      pending.push(c);
      return;
    }
    for (let off = 0; off < c.length;) off += writeSync(fd, c, off);
    written += c.length;
  };
  res.on('data', (c: Buffer) => {
    if (outcome !== undefined) return;
    if (written + pending.reduce((n, b) => n + b.length, 0) + c.length > o.maxBytes) {
      done(
        new OtaError('EDGEFLOW_OTA_TOO_LARGE', `${redactUrl(o.url)} exceeds ${o.maxBytes} bytes`),
      );
      res.destroy();
      return;
    }
    try {
      put(c);
    } catch (err) {
      done(err);
      res.destroy();
    }
  });
  res.on('end', () => done(res.complete ? undefined : new Error('response ended early')));
  res.on('error', (err) => done(err));
  res.on('close', () => done(res.complete ? undefined : new Error('connection closed early')));
  return {
    writeTo: (f) => {
      fd = f;
      try {
        for (const c of pending.splice(0)) put(c);
      } catch (err) {
        done(err);
      }
      return new Promise((resolve, reject) => {
        const finish = (r: { err: Error | undefined }): void =>
          r.err === undefined ? resolve(written) : reject(r.err);
        if (outcome !== undefined) finish(outcome);
        else settle = finish;
      });
    },
  };
}
