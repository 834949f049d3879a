import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import type { SimGpioChipModel } from '../../src/gpio/sim-model.js';
import type { EdgeEvent, GpioChip, GpioLine } from '../../src/gpio/types.js';

/** Something that drives the pads of the chip under test (gpio-sim in the QEMU tier). */
export interface PadDriver {
  drive(offset: number, level: 0 | 1 | undefined): Promise<void> | void;
  level(offset: number): Promise<number> | number;
}

/** A pad driver over a simulator model. */
export function modelPads(model: SimGpioChipModel): PadDriver {
  return { drive: (o, l) => model.drive(o, l), level: (o) => model.level(o) };
}

function nextEdge(line: GpioLine): Promise<EdgeEvent> {
  return new Promise((resolve) => {
    const off = line.onEdge((e) => {
      off();
      resolve(e);
    });
  });
}

/**
 * The GpioChip contract: every backend (sim, cdev, sysfs) must pass it. `open`
 * returns a fresh chip and its pad driver.
 */
export function gpioChipContract(
  name: string,
  open: () => Promise<{ chip: GpioChip; pads: PadDriver }>,
): void {
  test(`${name}: output drives the pad; active-low inverts`, async () => {
    const { chip, pads } = await open();
    const a = await chip.requestLine(1, { direction: 'output', initial: 1 });
    assert.equal(await pads.level(1), 1);
    await a.set(0);
    assert.equal(await pads.level(1), 0);
    assert.equal(await a.get(), 0);
    const b = await chip.requestLine(2, { direction: 'output', activeLow: true, initial: 1 });
    assert.equal(await pads.level(2), 0);
    assert.equal(await b.get(), 1);
    await chip.close();
  });

  test(`${name}: input follows the pad`, async () => {
    const { chip, pads } = await open();
    const l = await chip.requestLine(3, { direction: 'input' });
    await pads.drive(3, 1);
    assert.equal(await l.get(), 1);
    await pads.drive(3, 0);
    assert.equal(await l.get(), 0);
    await chip.close();
  });

  test(`${name}: edges arrive one at a time with increasing seqno`, async () => {
    const { chip, pads } = await open();
    await pads.drive(4, 0);
    const l = await chip.requestLine(4, { direction: 'input', edge: 'both' });
    let p = nextEdge(l);
    await pads.drive(4, 1);
    const e1 = await p;
    p = nextEdge(l);
    await pads.drive(4, 0);
    const e2 = await p;
    assert.deepEqual([e1.edge, e1.value, e2.edge, e2.value], ['rising', 1, 'falling', 0]);
    assert.ok(e2.seqno > e1.seqno);
    assert.ok(e2.timestampNs >= e1.timestampNs);
    await chip.close();
  });

  test(`${name}: a requested line is busy; released lines can be requested again`, async () => {
    const { chip } = await open();
    const l = await chip.requestLine(5, { direction: 'input' });
    await assert.rejects(
      chip.requestLine(5, { direction: 'input' }),
      (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_BUSY') && /:5/.test(e.message),
    );
    await l.close();
    const again = await chip.requestLine(5, { direction: 'input' });
    await assert.rejects(again.set(1), (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_DIRECTION'));
    await chip.close();
    await assert.rejects(again.get(), (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_CLOSED'));
  });

  test(`${name}: bias pulls an undriven input (or is refused where unsupported)`, async () => {
    const { chip, pads } = await open();
    await pads.drive(6, undefined);
    if (!chip.capabilities.bias) {
      await assert.rejects(chip.requestLine(6, { direction: 'input', bias: 'pull-up' }), (e) =>
        isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'),
      );
    } else {
      const l = await chip.requestLine(6, { direction: 'input', bias: 'pull-up' });
      assert.equal(await l.get(), 1);
    }
    await chip.close();
  });
}
