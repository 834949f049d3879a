// Shared by the negative tests of the catalog checks (negative-*.test.ts): the run options the
// judges see, a judge call on raw evidence, and the coverage each file keeps complete.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { catalog } from '../../src/catalog/catalog.js';
import { implementations } from '../../src/checks/registry.js';
import type { JudgeInput, Outcome } from '../../src/checks/types.js';
import type { RunOptions } from '../../src/run/types.js';

/** Which catalog categories each negative test file covers; together, every category. */
export const PARTS = {
  hardware: ['HW', 'DT', 'TPM', 'MQTT', 'MAP', 'OTA'],
  system: ['SYS', 'RES'],
} as const;

export const OPTIONS = {
  mode: 'stress',
  rate: 200,
  sampleMs: 1000,
  p99LimitMs: 500,
  fsyncP99LimitMs: 100,
  otaRollbackLimitSec: 120,
  stallLimitMs: 10_000,
  trendMinMs: 30 * 60_000,
  clockTolerance: 0.02,
} as unknown as RunOptions;

export function judge(id: string, raw: unknown, extra: Partial<JudgeInput> = {}): Outcome {
  const impl = implementations[id];
  assert.ok(impl, id);
  return impl.judge({
    raw,
    options: OPTIONS,
    phase: 'end',
    samples: [],
    anchors: [],
    gaps: [],
    ...extra,
  });
}

export function fails(out: Outcome, reason: RegExp): void {
  assert.equal(out.status, 'fail', out.detail);
  assert.match(out.detail, reason);
}

const covered = new Set<string>();
/** One negative test of a check; the check counts as covered. */
export function check(id: string, title: string, fn: () => void): void {
  covered.add(id);
  it(`${id}: ${title}`, fn);
}

export const board = (profile: string) => ({
  board: {
    profile,
    name: profile,
    matchedBy: 'compatible',
    compatible: [],
    chips: [],
    i2c: [],
    gpioBackend: 'cdev',
    missing: [],
    model: null,
  },
  missing: [],
  agentBoard: profile,
  agentError: null,
});

/** The last test of a file: every check of its categories has a negative test there. */
export function coversCategories(categories: readonly string[]): void {
  it(`covers every check of the categories ${categories.join(', ')}`, () => {
    const ids = catalog.filter((c) => categories.includes(c.category)).map((c) => c.id);
    assert.deepEqual([...covered].sort(), ids.sort());
  });
}
