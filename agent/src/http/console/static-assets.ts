import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../error-body.js';
import { consoleHeaders } from './security-headers.js';

/** Paths of the single-page app: each serves index.html, so every page is deep-linkable. */
export const PAGE_PATHS = ['/', '/sensors', '/gpio', '/updates', '/attestation', '/edgeready'];

/** True for the console's shell (pages, hashed assets, icon): no data, served to every reader. */
export function isShellPath(path: string): boolean {
  return PAGE_PATHS.includes(path) || path.startsWith('/assets/') || path === '/favicon.svg';
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
  readonly etag: string;
  readonly immutable: boolean;
}

interface Manifest {
  readonly format: 1;
  readonly files: Record<
    string,
    { type: string; sha256: string; immutable: boolean; size: number; gzip: number; br: number }
  >;
}

/** Where @edgeflow/console's build is (its package next to the agent's). */
export function consoleBuildDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@edgeflow/console/package.json');
    return join(dirname(pkg), 'dist', 'ui');
  } catch {
    return undefined;
  }
}

/**
 * Reads the built console into memory (about 150 KB with its compressed copies): served
 * without a disk read per request, and a release's console cannot change under a running agent.
 */
export async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new Error(`${dir}/manifest.json: unknown format`);
  const out = new Map<string, Asset>();
  for (const [path, f] of Object.entries(manifest.files)) {
    const file = join(dir, path);
    const [body, gzip, br] = await Promise.all([
      readFile(file),
      readFile(`${file}.gz`),
      readFile(`${file}.br`),
    ]);
    if (body.length !== f.size) throw new Error(`${file}: size differs from the manifest`);
    out.set(path, { type: f.type, body, gzip, br, etag: `"${f.sha256}"`, immutable: f.immutable });
  }
  if (!out.has('/index.html')) throw new Error(`${dir}: no index.html in the manifest`);
  return out;
}

/** br, then gzip, then identity, by the client's Accept-Encoding (q=0 excludes). */
export function pickEncoding(accept: string | undefined): 'br' | 'gzip' | 'identity' {
  const offered = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    offered.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (n: string) => (offered.get(n) ?? offered.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

function send(req: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  void reply
    .headers(consoleHeaders(a.type.startsWith('text/html')))
    .header('content-type', a.type)
    .header('etag', a.etag)
    .header('vary', 'accept-encoding')
    .header('cache-control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  const enc = pickEncoding(req.headers['accept-encoding']);
  if (enc === 'identity') return reply.send(a.body);
  return reply.header('content-encoding', enc).send(enc === 'br' ? a.br : a.gzip);
}

/** Routes of the shell: the pages, the hashed assets and the icon; 503 when not built. */
export function staticRoutes(app: FastifyInstance, assets: Map<string, Asset> | undefined): void {
  const notBuilt = (_req: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(503)
      .headers(consoleHeaders(false))
      .send(
        errorBody(
          'EDGEFLOW_CONSOLE_NOT_BUILT',
          'the console assets are not built: run `npm run build` (the API under /v1 works)',
        ),
      );
  for (const p of PAGE_PATHS) {
    app.get(p, (req, reply) => {
      const index = assets?.get('/index.html');
      return index === undefined ? notBuilt(req, reply) : send(req, reply, index);
    });
  }
  app.get('/favicon.svg', (req, reply) => {
    const a = assets?.get('/favicon.svg');
    return a === undefined ? notBuilt(req, reply) : send(req, reply, a);
  });
  app.get<{ Params: { '*': string } }>('/assets/*', (req, reply) => {
    const a = assets?.get(`/assets/${req.params['*']}`);
    if (a !== undefined) return send(req, reply, a);
    return reply
      .code(404)
      .send(errorBody('EDGEFLOW_HTTP_NOT_FOUND', `no console asset ${req.url.split('?')[0]}`));
  });
}
