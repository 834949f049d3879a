// Test fixtures of the console routes: a built-console stand-in, and an HTTP server with the
// console plugin registered the way the agent registers it.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { Hal } from '@edgeflow/hal';
import { SensorCache } from '../../../src/cache/sensor-cache.js';
import { validateConfig } from '../../../src/config/load.js';
import type { AgentConfigInput } from '../../../src/config/schema.js';
import { consolePlugin } from '../../../src/http/console/index.js';
import { isPublicPath } from '../../../src/http/public-paths.js';
import { buildHttpServer } from '../../../src/http/server.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import type { OtaTrial } from '../../../src/ota/ota-trial.js';

export const TOKEN = 'c'.repeat(64);
export const TOKEN_SHA = createHash('sha256').update(TOKEN).digest('hex');

/** A dist/ui as scripts/compress.mjs writes it: files, .gz, .br, manifest.json. */
export async function fakeBuild(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'console-ui-'));
  await mkdir(join(dir, 'assets'));
  const files: Record<string, [string, string]> = {
    '/index.html': [
      'text/html; charset=utf-8',
      '<!doctype html><title>t</title><script type="module" src="/assets/app-1.js"></script>',
    ],
    '/assets/app-1.js': ['text/javascript; charset=utf-8', 'console.log(1)'],
    '/favicon.svg': ['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
  };
  const manifest: Record<string, unknown> = {};
  for (const [p, [type, text]] of Object.entries(files)) {
    const body = Buffer.from(text);
    const gz = gzipSync(body);
    const br = brotliCompressSync(body);
    await writeFile(join(dir, p), body);
    await writeFile(join(dir, `${p}.gz`), gz);
    await writeFile(join(dir, `${p}.br`), br);
    manifest[p] = {
      type,
      size: body.length,
      gzip: gz.length,
      br: br.length,
      sha256: createHash('sha256').update(body).digest('base64url'),
      immutable: p.startsWith('/assets/'),
    };
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ format: 1, files: manifest }));
  return dir;
}

export interface ConsoleServerOptions {
  config?: AgentConfigInput;
  assetsDir?: string | null;
  hal?: Hal;
  ota?: () => OtaTrial | undefined;
  tickMs?: number;
}

/** buildHttpServer + the console plugin, as agent.ts wires them (not listening). */
export async function consoleServer(o: ConsoleServerOptions = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'console-data-'));
  const config = validateConfig(
    {
      dataDir,
      ...o.config,
      ota: { root: join(dataDir, 'no-ota'), ...o.config?.ota },
      http: { apiTokens: [{ name: 'ops', sha256: TOKEN_SHA }], ...o.config?.http },
    },
    'test',
  );
  const cache = new SensorCache({ shards: 8 });
  const metrics = createMetrics({
    cacheSize: () => cache.size,
    mqttClients: () => 2,
    defaultMetrics: false,
  });
  const log = pino({ level: 'silent' });
  const readiness = [{ name: 'broker', ok: () => true }];
  const app = buildHttpServer({
    log,
    cache,
    registry: metrics.registry,
    readiness,
    apiTokens: config.http.apiTokens,
    hal: o.hal,
    readAccess: {
      listenHost: config.http.listen.host,
      publicRead: config.http.publicRead,
      exempt: isPublicPath,
    },
  });
  await app.register(consolePlugin, {
    config,
    log,
    cache,
    metrics,
    readiness,
    hal: o.hal,
    ota: o.ota ?? (() => undefined),
    mqttClients: () => 2,
    now: Date.now,
    assetsDir: o.assetsDir === undefined ? await fakeBuild() : o.assetsDir,
    ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
  });
  await app.ready();
  return { app, cache, metrics, config, dataDir };
}

export const host = { host: '127.0.0.1:8080' };
export const auth = { ...host, authorization: `Bearer ${TOKEN}` };
