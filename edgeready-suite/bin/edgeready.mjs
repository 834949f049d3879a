#!/usr/bin/env node
// The `edgeready` command as npm links it (package.json "bin"). This launcher is tracked, unlike
// dist/: npm links workspace bins at install time, before `prepare` (tsc -b) builds the CLI, and
// skips a bin whose target does not exist yet, so a fresh clone's `npx edgeready` needs a file
// that is already there. Packaged releases do not use it (they ship bin/edgeready, see packaging/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(`edgeready: ${fileURLToPath(cli)} is not built: run \`npm run build\`\n`);
  process.exit(70); // EX_SOFTWARE, as docs/cli.md lists for internal errors
}
await import(cli.href);
