import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

// dist/tsc/test/budget.test.js → dist/ui/manifest.json (written by `npm run build`)
const manifest = new URL('../../ui/manifest.json', import.meta.url);
const BUDGET = 150 * 1024;

test('the first load (HTML, scripts, styles) stays within 150 KB gzipped', (t) => {
  if (!existsSync(manifest)) {
    t.skip('console not built: run `npm run build`');
    return;
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
    files: Record<string, { gzip: number; type: string }>;
  };
  const html = readFileSync(new URL('../../ui/index.html', import.meta.url), 'utf8');
  // What index.html pulls in, plus itself: the first load, whatever page is opened.
  const referenced = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((x) => x[1] as string);
  const first = ['/index.html', ...referenced];
  for (const p of first) assert.ok(m.files[p], `${p} is in the manifest`);
  const total = first.reduce((a, p) => a + (m.files[p]?.gzip ?? 0), 0);
  assert.ok(total <= BUDGET, `first load ${total} bytes gzipped > ${BUDGET}`);
  assert.ok(
    !/https?:\/\//.test(html.replace(/<!--[\s\S]*?-->/g, '')),
    'index.html loads nothing from another origin (works offline)',
  );
});
