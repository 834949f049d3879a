import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unifiedDiff } from '../src/diff.js';

test('unified diff: hunks, context, new file, missing final newline', () => {
  assert.equal(unifiedDiff('a\n', 'a\n', 'x', 'y'), '');
  assert.equal(
    unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'a/f', 'b/f'),
    '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
  );
  assert.equal(
    unifiedDiff(null, 'x\n', 'a/f', 'b/f'),
    '--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n',
  );
  assert.equal(
    unifiedDiff('x', 'x\n', 'a', 'b'),
    '--- a\n+++ b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n',
  );
  const long = Array.from({ length: 20 }, (_, i) => `l${i}`);
  const changed = long.map((l, i) => (i === 2 || i === 17 ? l + '!' : l));
  const d = unifiedDiff(long.join('\n') + '\n', changed.join('\n') + '\n', 'a', 'b');
  assert.equal(d.match(/^@@/gm)?.length, 2, 'far-apart changes make two hunks');
});
