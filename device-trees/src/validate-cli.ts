/** `npm run validate`: validate every overlay and write build/validation-report.{md,json}. */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './overlay-source.js';
import { renderReport, validateAll } from './validate.js';

const cache = join(PACKAGE_ROOT, '.cache');
const kernel = (await readFile(join(cache, 'base/.complete'), 'utf8')).trim();
const checks = await validateAll(PACKAGE_ROOT, cache);
const md = renderReport(checks, kernel);
await mkdir(join(PACKAGE_ROOT, 'build'), { recursive: true });
await writeFile(join(PACKAGE_ROOT, 'build/validation-report.md'), md);
await writeFile(
  join(PACKAGE_ROOT, 'build/validation-report.json'),
  JSON.stringify({ kernel, checks }, null, 2) + '\n',
);
process.stdout.write(md);
process.exitCode = checks.some((c) => c.status === 'fail') ? 1 : 0;
