import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_LIMITS,
  checkManifestSafety,
  resolveLink,
  safeRelPath,
} from '../src/bundle-format.js';
import { OtaError } from '../src/errors.js';
import { parseManifest } from '../src/manifest.js';
import type { Manifest } from '../src/manifest.js';

const base: Manifest = {
  format: 1,
  name: 'edgeflow',
  version: '1.0.0',
  boards: ['pi5'],
  rollout: 100,
  created: '2025-01-01T00:00:00.000Z',
  files: [],
};
const sha = 'a'.repeat(64);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OtaError ? e.code : 'not-ota';
  }
  return undefined;
}

test('unsafe paths are refused', () => {
  for (const p of ['/etc/passwd', '../x', 'a/../../x', 'a//b', './a', '', 'a\0b']) {
    assert.equal(
      code(() => safeRelPath(p, 't')),
      'EDGEFLOW_OTA_UNSAFE_ENTRY',
      p,
    );
  }
  assert.equal(safeRelPath('a/b/', 't'), 'a/b');
});

test('symlinks must stay inside the release and nothing may live beneath one', () => {
  const link = (path: string, target: string): Manifest => ({
    ...base,
    files: [{ path, type: 'symlink', target }],
  });
  assert.equal(
    code(() => checkManifestSafety(link('a', '/etc'), DEFAULT_LIMITS)),
    'EDGEFLOW_OTA_UNSAFE_ENTRY',
  );
  assert.equal(
    code(() => checkManifestSafety(link('a/b', '../../etc'), DEFAULT_LIMITS)),
    'EDGEFLOW_OTA_UNSAFE_ENTRY',
  );
  assert.equal(
    code(() => checkManifestSafety(link('a/b', '../c'), DEFAULT_LIMITS)),
    undefined,
  );
  const beneath: Manifest = {
    ...base,
    files: [
      { path: 'lib', type: 'symlink', target: 'real' },
      { path: 'lib/evil', type: 'file', size: 1, sha256: sha, mode: 0o644 },
    ],
  };
  assert.equal(
    code(() => checkManifestSafety(beneath, DEFAULT_LIMITS)),
    'EDGEFLOW_OTA_UNSAFE_ENTRY',
  );
});

test('size limits apply per file and in total', () => {
  const files = (n: number, size: number): Manifest => ({
    ...base,
    files: Array.from({ length: n }, (_, i) => ({
      path: `f${i}`,
      type: 'file' as const,
      size,
      sha256: sha,
      mode: 0o644 as const,
    })),
  });
  const limits = { maxFileSize: 100, maxTotalSize: 250, maxEntries: 10 };
  assert.equal(
    code(() => checkManifestSafety(files(1, 101), limits)),
    'EDGEFLOW_OTA_TOO_LARGE',
  );
  assert.equal(
    code(() => checkManifestSafety(files(3, 100), limits)),
    'EDGEFLOW_OTA_TOO_LARGE',
  );
  assert.equal(
    code(() => checkManifestSafety(files(11, 1), limits)),
    'EDGEFLOW_OTA_TOO_LARGE',
  );
  assert.equal(
    code(() => checkManifestSafety(files(2, 100), limits)),
    undefined,
  );
});

test('manifest schema names the bad key and rejects unknown keys and duplicates', () => {
  const bad = (o: unknown): string => {
    try {
      parseManifest(JSON.stringify(o));
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.match(bad({ ...base, version: '1.0' }), /version/);
  assert.match(bad({ ...base, extra: 1 }), /extra|unrecognized/i);
  assert.match(bad({ ...base, rollout: 101 }), /rollout/);
  assert.match(
    bad({ ...base, files: [{ path: 'a', type: 'file', size: 1, sha256: sha, mode: 0o777 }] }),
    /files\.0\.mode/,
  );
  assert.match(
    bad({
      ...base,
      files: [
        { path: 'a', type: 'symlink', target: 'b' },
        { path: 'a', type: 'symlink', target: 'c' },
      ],
    }),
    /duplicate/,
  );
  assert.ok(Object.isFrozen(parseManifest(JSON.stringify(base))));
});

test('symlink targets are resolved through the other links, as the kernel will', () => {
  const links = new Map([
    ['bin/edgeflow', '../agent/dist/src/cli.js'],
    ['lib', 'agent/dist'],
    ['via', 'lib/src/../src/cli.js'],
    ['a/b/c/up', '../../..'],
    ['a/b/c/ok', 'up/lib'],
    ['esc', 'a/b/c/up/../../../x'],
    ['self', '.'],
    ['p', 'q'],
    ['q', 'p'],
  ]);
  assert.equal(resolveLink(links, 'bin/edgeflow'), 'agent/dist/src/cli.js');
  assert.equal(resolveLink(links, 'via'), 'agent/dist/src/cli.js');
  assert.equal(resolveLink(links, 'a/b/c/up'), '');
  assert.equal(resolveLink(links, 'a/b/c/ok'), 'agent/dist');
  assert.equal(resolveLink(links, 'self'), '');
  const refused = (re: RegExp) => (e: unknown) =>
    e instanceof OtaError && e.code === 'EDGEFLOW_OTA_UNSAFE_ENTRY' && re.test(e.message);
  assert.throws(() => resolveLink(links, 'esc'), refused(/esc .* escapes the release/));
  assert.throws(() => resolveLink(links, 'p'), refused(/loops/));
  // Text normalisation would have accepted the escape: a/b/c/up/../../../x -> a/x.
  assert.throws(
    () =>
      checkManifestSafety(
        {
          ...base,
          files: [
            { path: 'a/b/c/up', type: 'symlink', target: '../../..' },
            { path: 'esc', type: 'symlink', target: 'a/b/c/up/../../../x' },
          ],
        },
        DEFAULT_LIMITS,
      ),
    refused(/escapes/),
  );
});
