import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimWorld, simDetected, type HalDeps } from '@edgeflow/hal';
import { gpioCheck } from '../../src/checks/hw.js';
import type { CheckContext } from '../../src/checks/types.js';
import { runCheck } from './run-check.js';

/** ER-HW-GPIO on `--board sim`, with an agent that holds no line. */
function simCtx(gpioLoopback: { out: string; in: string }[], halDeps?: HalDeps): CheckContext {
  return {
    opts: { root: '/', board: 'sim', gpioLoopback },
    agent: { json: () => Promise.resolve({ board: 'sim', lines: [] }) },
    board: () => Promise.resolve(simDetected()),
    ...(halDeps ? { halDeps } : {}),
  } as unknown as CheckContext;
}

const toHigh = {
  direction: 'output',
  bias: 'as-is',
  activeLow: false,
  edge: 'none',
  debounceNs: 0n,
  initialLevel: 1,
} as const;

interface LoopEvidence {
  declaredBy: string;
  wrote: number[];
  read: number[];
  edges: { expected: number; rising: number; falling: number; timestampsIncreasing: boolean };
}

test('ER-HW-GPIO loops back through the sim profile jumper (pins 38 -> 40)', async () => {
  const r = await runCheck(gpioCheck, simCtx([]));
  // Everything looped back, on the simulator: reported as such, never a plain pass.
  assert.equal(r.status, 'simulated', r.detail);
  assert.match(r.detail, /38->40 \(board profile\).*simulator board: no hardware was tested/);
  const [loop] = r.evidence.loopback as LoopEvidence[];
  assert.ok(loop);
  assert.equal(loop.declaredBy, 'board profile');
  assert.equal(loop.wrote.length, 16);
  assert.deepEqual(loop.read, loop.wrote);
  assert.deepEqual(loop.edges, {
    expected: 16,
    rising: 8,
    falling: 8,
    timestampsIncreasing: true,
  });
  assert.ok(!(r.evidence.probed as number[]).includes(38), 'jumper pins are not probed');
});

test('ER-HW-GPIO fails on a sim board without the jumper: it cannot pass vacuously', async () => {
  const r = await runCheck(
    gpioCheck,
    simCtx([], { simWorld: new SimWorld(undefined, undefined, { wires: [] }) }),
  );
  assert.equal(r.status, 'fail', r.detail);
  assert.match(r.detail, /loopback 38->40 \(board profile\): cycle 1 wrote 1 read 0/);
  const [loop] = r.evidence.loopback as LoopEvidence[];
  assert.deepEqual(loop?.edges.rising, 0);
});

test('ER-HW-GPIO fails for a declared pair that is not wired, passes for the wired one', async () => {
  const wrong = await runCheck(gpioCheck, simCtx([{ out: '11', in: '13' }]));
  assert.equal(wrong.status, 'fail', wrong.detail);
  assert.match(wrong.detail, /11->13 \(--gpio-loopback\): cycle 1 wrote 1 read 0/);
  const right = await runCheck(gpioCheck, simCtx([{ out: '38', in: '40' }]));
  assert.equal(right.status, 'simulated', right.detail);
  assert.match(right.detail, /38->40 \(--gpio-loopback\)/);
});

test('ER-HW-GPIO reports contention when another output drives the jumper', async () => {
  // Line 30 (not on the header) is wired onto the jumper and driven high by someone else.
  const world = new SimWorld(undefined, undefined, {
    wires: [
      [20, 21],
      [21, 30],
    ],
  });
  world.gpio.request(30, toHigh, 'other');
  const r = await runCheck(gpioCheck, simCtx([], { simWorld: world }));
  assert.equal(r.status, 'fail', r.detail);
  assert.match(r.detail, /EDGEFLOW_HAL_GPIO_IO .*wire contention/);
});
