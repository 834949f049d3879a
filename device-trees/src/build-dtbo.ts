/**
 * `npm run build:dtbo`: compile every overlays/<board>/<name>.dts to build/<board>/<name>.dtbo
 * with `dtc -@`, warnings as errors. Exit 1 naming every source that failed.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compileOverlay } from './dtc.js';
import { DtError } from './errors.js';
import { PACKAGE_ROOT } from './overlay-source.js';

/** Compile all overlays under `root`; returns the built files and the failures. */
export async function buildAll(
  root = PACKAGE_ROOT,
): Promise<{ built: string[]; failed: DtError[] }> {
  const built: string[] = [];
  const failed: DtError[] = [];
  for (const board of (await readdir(join(root, 'overlays'))).sort()) {
    const outDir = join(root, 'build', board);
    await mkdir(outDir, { recursive: true });
    for (const f of (await readdir(join(root, 'overlays', board)))
      .filter((n) => n.endsWith('.dts'))
      .sort()) {
      const out = join(outDir, f.replace(/\.dts$/, '.dtbo'));
      try {
        await compileOverlay(join(root, 'overlays', board, f), out);
        built.push(out);
      } catch (e) {
        if (e instanceof DtError) failed.push(e);
        else throw e;
      }
    }
  }
  return { built, failed };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const { built, failed } = await buildAll();
  process.stdout.write(`built ${built.length} overlays into ${join(PACKAGE_ROOT, 'build')}\n`);
  for (const f of failed) process.stderr.write(`${f.code}: ${f.message}\n`);
  process.exitCode = failed.length ? 1 : 0;
}
