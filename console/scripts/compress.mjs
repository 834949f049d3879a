// After `vite build`: writes a gzip and a brotli copy of every built file and
// dist/ui/manifest.json, which the agent reads at start to serve the console from memory
// (path -> content type, sizes, sha256 for the ETag, whether the name is content-hashed).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, extname } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../dist/ui/', import.meta.url).pathname;
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (!/\.(gz|br)$/.test(name) && name !== 'manifest.json') out.push(p);
  }
  return out;
}

const files = {};
for (const p of walk(root).sort()) {
  const rel = `/${relative(root, p)}`;
  const type = TYPES[extname(p)];
  if (type === undefined) throw new Error(`compress: no content type for ${rel}`);
  const body = readFileSync(p);
  const gz = gzipSync(body, { level: 9 });
  const br = brotliCompressSync(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
  writeFileSync(`${p}.gz`, gz);
  writeFileSync(`${p}.br`, br);
  files[rel] = {
    type,
    size: body.length,
    gzip: gz.length,
    br: br.length,
    sha256: createHash('sha256').update(body).digest('base64url'),
    // Vite puts a content hash in every name under assets/: those never change.
    immutable: rel.startsWith('/assets/'),
  };
}
writeFileSync(join(root, 'manifest.json'), `${JSON.stringify({ format: 1, files }, null, 2)}\n`);
const first = Object.entries(files).filter(([k]) => k === '/index.html' || /\.(js|css)$/.test(k));
const gzTotal = first.reduce((a, [, f]) => a + f.gzip, 0);
console.log(`console: ${Object.keys(files).length} files, first load ${gzTotal} bytes gzipped`);
