import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import { SimGpioChip } from '../../src/gpio/sim-chip.js';
import { SimGpioChipModel } from '../../src/gpio/sim-model.js';
import type { EdgeEvent, GpioLine } from '../../src/gpio/types.js';
import { SimWorld } from '../../src/sim/sim-world.js';

/** A chip with lines 1-2 wired, on a clock that ticks 1 µs per reading. */
function wiredChip(wires: ReadonlyArray<readonly [number, number]> = [[1, 2]]): {
  model: SimGpioChipModel;
  chip: SimGpioChip;
} {
  let t = 0n;
  const model = new SimGpioChipModel('edgeflow-sim', 8, () => (t += 1000n), { wires });
  return { model, chip: new SimGpioChip(model) };
}

function nextEdge(line: GpioLine): Promise<EdgeEvent> {
  return new Promise((resolve) => {
    const off = line.onEdge((e) => {
      off();
      resolve(e);
    });
  });
}

test('sim wire: an output drives the wired input, which raises timestamped edges', async () => {
  const { model, chip } = wiredChip();
  const input = await chip.requestLine(2, { direction: 'input', edge: 'both' });
  const out = await chip.requestLine(1, { direction: 'output', initial: 0 });
  assert.deepEqual(model.wiredTo(2), [1]);
  let p = nextEdge(input);
  await out.set(1);
  const e1 = await p;
  assert.equal(await input.get(), 1);
  p = nextEdge(input);
  await out.set(0);
  const e2 = await p;
  assert.equal(await input.get(), 0);
  assert.deepEqual(
    [e1.edge, e1.value, e1.offset, e2.edge, e2.value],
    ['rising', 1, 2, 'falling', 0],
  );
  assert.deepEqual([e1.seqno, e2.seqno], [1, 2]);
  assert.ok(e2.timestampNs > e1.timestampNs);
  // The line that is not wired does not move.
  assert.equal(model.level(3), 0);
  await chip.close();
});

test('sim wire: a released output leaves the input to its bias', async () => {
  const { chip } = wiredChip();
  const input = await chip.requestLine(2, { direction: 'input', bias: 'pull-up', edge: 'both' });
  assert.equal(await input.get(), 1, 'pull-up on a floating wire reads 1');
  const out = await chip.requestLine(1, { direction: 'output', initial: 0 });
  assert.equal(await input.get(), 0, 'an output is stronger than the pull-up');
  const p = nextEdge(input);
  await out.close();
  const e = await p;
  assert.deepEqual([e.edge, await input.get()], ['rising', 1]);
  await chip.close();
});

test('sim wire: active-low is per line; levels on the wire are electrical', async () => {
  const { model, chip } = wiredChip();
  const out = await chip.requestLine(1, { direction: 'output', activeLow: true, initial: 0 });
  const plain = await chip.requestLine(2, { direction: 'input', edge: 'both' });
  assert.equal(model.level(2), 1, 'logical 0 on an active-low output is electrical high');
  assert.equal(await plain.get(), 1);
  const p = nextEdge(plain);
  await out.set(1);
  assert.deepEqual([(await p).edge, await plain.get()], ['falling', 0]);
  await plain.close();
  const inverted = await chip.requestLine(2, { direction: 'input', activeLow: true });
  assert.equal(await inverted.get(), 1, 'an active-low input reads the output logical value');
  await chip.close();
});

test('sim wire: two outputs at different levels are contention; the change is refused', async () => {
  const { model, chip } = wiredChip();
  const a = await chip.requestLine(1, { direction: 'output', initial: 1 });
  await assert.rejects(
    chip.requestLine(2, { direction: 'output', initial: 0 }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_GPIO_IO') && /contention/.test(e.message),
  );
  assert.equal(model.consumer(2), undefined, 'the refused request holds nothing');
  const b = await chip.requestLine(2, { direction: 'output', initial: 1 });
  await assert.rejects(
    b.set(0),
    (e) => isHalError(e, 'EDGEFLOW_HAL_GPIO_IO') && /1=1, 2=0/.test(e.message),
  );
  assert.deepEqual([model.level(1), model.level(2)], [1, 1], 'levels unchanged after refusal');
  await a.close();
  await b.set(0);
  assert.equal(model.level(1), 0, 'with one driver left the wire follows it');
  await chip.close();
});

test('sim wire: an external drive is weaker than an output and stronger than bias', async () => {
  const { model, chip } = wiredChip();
  const input = await chip.requestLine(2, { direction: 'input', bias: 'pull-down' });
  model.drive(1, 1);
  assert.equal(await input.get(), 1);
  const out = await chip.requestLine(1, { direction: 'output', initial: 0 });
  assert.equal(await input.get(), 0);
  await out.close();
  assert.equal(await input.get(), 1);
  assert.throws(() => model.drive(2, 0), /contention/);
  await chip.close();
});

test('sim wire: wiring and unwiring at run time raise edges; contended wires are refused', async () => {
  const { model, chip } = wiredChip([]);
  const input = await chip.requestLine(4, { direction: 'input', edge: 'both' });
  await chip.requestLine(5, { direction: 'output', initial: 1 });
  let p = nextEdge(input);
  model.wire(5, 4);
  assert.equal((await p).edge, 'rising');
  p = nextEdge(input);
  model.unwire(4, 5);
  assert.equal((await p).edge, 'falling');
  await chip.requestLine(6, { direction: 'output', initial: 0 });
  assert.throws(() => model.wire(5, 6), /contention/);
  assert.deepEqual(model.wiredTo(5), []);
  assert.throws(() => model.wire(5, 5), /itself/);
  await chip.close();
});

test('SimWorld: the sim profile jumper joins pins 38 and 40; wires: [] removes it', () => {
  // Pins 38 and 40 are GPIO20 and GPIO21 on the sim header.
  assert.deepEqual(new SimWorld().gpio.wiredTo(20), [21]);
  assert.deepEqual(new SimWorld(undefined, undefined, { wires: [] }).gpio.wiredTo(20), []);
});
