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
 * The GpioChip contract: every backend (sim, cdev, sysfs, firmata) must pass it. `open`
 * returns a fresh chip and its pad driver. `lines` maps the suite's seven line numbers
 * (1-7) to offsets of the chip, for chips whose low lines are not GPIO (a Firmata board's
 * pins 0/1 are its UART); lines 3 and 4 must share a port on chips that have ports.
 */
export function gpioChipContract(
  name: string,
  open: () => Promise<{ chip: GpioChip; pads: PadDriver }>,
  lines: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7],
): void {
  const L = (n: number): number => lines[n] ?? n;
  const at = (o: { chip: GpioChip; pads: PadDriver }) => ({
    chip: {
      capabilities: o.chip.capabilities,
      requestLine: (n: number, c: Parameters<GpioChip['requestLine']>[1]) =>
        o.chip.requestLine(L(n), c),
      close: () => o.chip.close(),
    },
    pads: {
      drive: (n: number, level: 0 | 1 | undefined) => o.pads.drive(L(n), level),
      level: (n: number) => o.pads.level(L(n)),
    },
  });
  const openAt = async () => at(await open());

  test(`${name}: output drives the pad; active-low inverts`, async () => {
    const { chip, pads } = await openAt();
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
    const { chip, pads } = await openAt();
    const l = await chip.requestLine(3, { direction: 'input' });
    await pads.drive(3, 1);
    assert.equal(await l.get(), 1);
    await pads.drive(3, 0);
    assert.equal(await l.get(), 0);
    await chip.close();
  });

  test(`${name}: edges arrive one at a time with increasing seqno`, async () => {
    const { chip, pads } = await openAt();
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
    const { chip } = await openAt();
    const l = await chip.requestLine(5, { direction: 'input' });
    await assert.rejects(
      chip.requestLine(5, { direction: 'input' }),
      (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_BUSY') && new RegExp(`:${L(5)}\\b`).test(e.message),
    );
    await l.close();
    const again = await chip.requestLine(5, { direction: 'input' });
    await assert.rejects(again.set(1), (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_DIRECTION'));
    await chip.close();
    await assert.rejects(again.get(), (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_CLOSED'));
  });

  test(`${name}: writing an output leaves a neighbouring input's bias alone`, async () => {
    // A backend that writes whole ports (Firmata) must not copy an input's value into the
    // port byte: StandardFirmata takes a 1 on an INPUT pin as "switch its pull-up on".
    const { chip, pads } = await openAt();
    const inp = await chip.requestLine(3, { direction: 'input' });
    const out = await chip.requestLine(4, { direction: 'output', initial: 0 });
    await pads.drive(3, 1);
    assert.equal(await inp.get(), 1);
    await out.set(1);
    await pads.drive(3, undefined);
    assert.equal(await inp.get(), 0, 'the undriven input must float low, not be pulled up');
    assert.equal(await pads.level(4), 1);
    await chip.close();
  });

  test(`${name}: bias pulls an undriven input (or is refused where unsupported)`, async () => {
    const { chip, pads } = await openAt();
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
