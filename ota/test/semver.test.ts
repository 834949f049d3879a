import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareSemver, isSemver } from '../src/semver.js';

test('semver precedence follows SemVer 2.0.0 section 11', () => {
  const ordered = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '2.0.0',
  ];
  for (let i = 0; i + 1 < ordered.length; i++) {
    assert.ok(
      compareSemver(ordered[i] ?? '', ordered[i + 1] ?? '') < 0,
      `${ordered[i]} < ${ordered[i + 1]}`,
    );
    assert.ok(compareSemver(ordered[i + 1] ?? '', ordered[i] ?? '') > 0);
  }
  assert.equal(compareSemver('1.2.3+build.1', '1.2.3+build.2'), 0);
});

test('isSemver rejects loose versions', () => {
  for (const v of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0-01'])
    assert.equal(isSemver(v), false, v);
  assert.ok(isSemver('10.20.30-rc.1+sha.abc'));
  assert.throws(() => compareSemver('1.0', '1.0.0'), TypeError);
});
