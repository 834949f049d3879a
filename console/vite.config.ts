// Build of the console: one small bundle (Preact + uPlot + the app) and one stylesheet under
// dist/ui, served by the agent at `/` (same listener as the API). Nothing is loaded from a CDN,
// so the console works on a gateway with no internet. scripts/compress.mjs then writes .gz/.br
// copies and the manifest the agent reads at start.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist/ui',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // The polyfill would be inline code; the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    sourcemap: false,
    // Everything stays a file: no data: URLs for fonts or images (CSP img-src 'self').
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
