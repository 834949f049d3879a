import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterSet, filterMatches } from '../../../src/broker/cluster/topic-filter.js';

test('MQTT filters: + one level (empty too), # the rest and the parent', () => {
  const cases: [string, string, boolean][] = [
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'x/y', true],
    ['+/+', 'x', false],
    ['a/b', 'a/c', false],
    ['$SYS/+/new/clients', '$SYS/x/new/clients', true],
  ];
  for (const [f, t, want] of cases) assert.equal(filterMatches(f, t), want, `${f} vs ${t}`);
});

test('a filter set counts uses: the last removal removes it', () => {
  const s = new FilterSet();
  assert.equal(s.add('a/#'), true);
  assert.equal(s.add('a/#'), false);
  assert.equal(s.matches('a/x'), true);
  assert.equal(s.remove('a/#'), false);
  assert.equal(s.matches('a/x'), true);
  assert.equal(s.remove('a/#'), true);
  assert.equal(s.matches('a/x'), false, 'the cached answer was dropped with the filter');
  assert.equal(s.remove('a/#'), false);
});
