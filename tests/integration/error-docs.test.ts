import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/gen-error-docs.mjs', import.meta.url));

interface Unraised {
  workspace: string;
  code: string;
}
interface GenErrorDocs {
  unraisedCodes(
    files?: Map<string, string>,
    cats?: { workspace: string; codes: string[] }[],
  ): Promise<Unraised[]>;
  sourceFiles(): string[];
  render(base?: string): Promise<string>;
}
const gen = (await import(pathToFileURL(script).href)) as GenErrorDocs;

test('docs/errors.md lists exactly the codes of every package errorCatalog', () => {
  const res = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
});

test('every documented code is raised by some source outside its catalog', async () => {
  const unraised = await gen.unraisedCodes();
  assert.deepEqual(
    unraised.map((u) => `${u.code} (${u.workspace})`),
    [],
    'documented codes nothing can raise: raise each where it belongs, or delete it',
  );
  const res = spawnSync(process.execPath, [script, '--check-raised'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
});

test('the scan finds a code that only its catalog, a comment or a test names', async () => {
  const cats = [{ workspace: 'demo', codes: ['EDGEFLOW_DEMO_USED', 'EDGEFLOW_DEMO_UNUSED'] }];
  const files = new Map([
    [
      'demo/src/errors.ts',
      [
        'export const errorCatalog = {',
        "  EDGEFLOW_DEMO_USED: 'used',",
        "  EDGEFLOW_DEMO_UNUSED: 'documented only',",
        '} as const;',
      ].join('\n'),
    ],
    [
      'demo/src/thing.ts',
      [
        '// EDGEFLOW_DEMO_UNUSED would be raised here, one day',
        '/* EDGEFLOW_DEMO_UNUSED */',
        "const url = 'http://x'; throw new DemoError('EDGEFLOW_DEMO_USED', url);",
      ].join('\n'),
    ],
  ]);
  assert.deepEqual(await gen.unraisedCodes(files, cats), [
    { workspace: 'demo', code: 'EDGEFLOW_DEMO_UNUSED' },
  ]);
  // The scan reads the real sources: every workspace's src/, no tests, no builds.
  const sources = gen.sourceFiles();
  assert.ok(sources.some((f) => f.endsWith('agent/src/cli/usage-error.ts')));
  assert.ok(!sources.some((f) => /\/(test|dist)\//.test(f)));
});

test('a package whose catalog is not built stops the generator instead of leaving it out', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ef-errdocs-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(base, path, '..'), { recursive: true });
    writeFileSync(join(base, path), text);
  };
  write('package.json', JSON.stringify({ workspaces: ['built', 'unbuilt', 'nocatalog'] }));
  for (const ws of ['built', 'unbuilt', 'nocatalog'])
    write(`${ws}/package.json`, JSON.stringify({ name: `@demo/${ws}` }));
  write('built/src/errors.ts', 'export const errorCatalog = {} as const;\n');
  write('built/dist/src/errors.js', "export const errorCatalog = { EDGEFLOW_DEMO_X: 'x' };\n");
  write('unbuilt/src/errors.ts', 'export const errorCatalog = {} as const;\n');
  await assert.rejects(
    gen.render(base),
    /^Error: unbuilt\/src\/errors\.ts is not built \(unbuilt\/dist\/src\/errors\.js is missing\): run npm run build first$/,
  );
  rmSync(join(base, 'unbuilt'), { recursive: true });
  write('package.json', JSON.stringify({ workspaces: ['built', 'nocatalog'] }));
  // A package without a catalog (no src/errors.ts) has no section, and that is no error.
  assert.match(await gen.render(base), /## @demo\/built\n[\s\S]*EDGEFLOW_DEMO_X/);
});
