import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import type { BoardPins } from '../../src/firmata/pin-table.js';
import { PinTable } from '../../src/firmata/pin-table.js';
import { PinMode } from '../../src/firmata/protocol.js';

// An Uno-like board: pins 0/1 are the UART (no modes), 2-19 digital, 14-19 analog, 18/19 I2C.
const digital = new Map<number, number>([
  [PinMode.INPUT, 1],
  [PinMode.OUTPUT, 1],
]);
const board: BoardPins = {
  capabilities: Array.from({ length: 20 }, (_, pin) => {
    if (pin < 2) return new Map<number, number>();
    const m = new Map(digital);
    if (pin >= 14) m.set(PinMode.ANALOG, 10);
    if (pin >= 18) m.set(PinMode.I2C, 1);
    return m;
  }),
  analogChannels: Array.from({ length: 20 }, (_, pin) => (pin >= 14 ? pin - 14 : undefined)),
};

const hex = (msgs: Uint8Array[]): string[] => msgs.map((m) => Buffer.from(m).toString('hex'));

test('the port byte carries outputs and wanted pull-ups, never values read from inputs', () => {
  const t = new PinTable();
  t.learn(0, 0);
  t.set(4, { use: 'input', pullUp: false }, 'a');
  t.set(5, { use: 'output', level: 1 }, 'b');
  t.set(6, { use: 'input', pullUp: true }, 'c');
  // Whatever pin 4 reads, its bit stays 0: a 1 would switch its pull-up on.
  assert.equal(t.portImage(0), 0b0110_0000);
  t.update(5, { use: 'output', level: 0 });
  assert.equal(t.portImage(0), 0b0100_0000);
});

test('pins the HAL does not hold keep what the board said they have', () => {
  const t = new PinTable();
  assert.ok(t.needsLearning(1));
  assert.deepEqual(t.unheld(board, 1), [8, 9, 10, 11, 12, 13, 14, 15]);
  t.learn(1, 0b0000_0101); // pins 8 and 10 are high (a CLI set them earlier)
  t.set(9, { use: 'output', level: 1 }, 'x');
  assert.equal(t.portImage(1), 0b0000_0111);
  assert.deepEqual(t.unheld(board, 1), [8, 10, 11, 12, 13, 14, 15]);
  // A released output keeps driving its level, so later writes keep it too.
  t.release(9);
  assert.equal(t.portImage(1), 0b0000_0111);
  t.forgetBoardState();
  assert.ok(t.needsLearning(1));
});

test('claims are checked against the firmware: unknown pin, missing mode, pin in use', () => {
  const t = new PinTable();
  assert.throws(
    () => t.check(board, 1, { use: 'output', level: 0 }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_UNKNOWN_PIN') && /firmata:1/.test(e.message),
  );
  assert.throws(
    () => t.check(board, 40, { use: 'input', pullUp: false }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_UNKNOWN_PIN') && /20 pins/.test(e.message),
  );
  assert.throws(
    () => t.check(board, 3, { use: 'analog', channel: 0 }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'),
  );
  t.set(3, { use: 'output', level: 0 }, 'edgeflow:relay');
  assert.throws(
    () => t.check(board, 3, { use: 'input', pullUp: false }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_LINE_BUSY') && /edgeflow:relay/.test(e.message),
  );
});

test('messages: output = port byte, mode, port byte again; pull-up input = mode then port byte', () => {
  const t = new PinTable();
  t.learn(0, 0);
  t.set(5, { use: 'output', level: 1 }, 'o');
  assert.deepEqual(hex(t.applyPin(5)), ['902000', 'f40501', '902000']);
  t.set(6, { use: 'input', pullUp: true }, 'i');
  assert.deepEqual(hex(t.applyPin(6)), ['f40600', '906000', 'd001']);
  t.set(7, { use: 'input', pullUp: false }, 'j');
  assert.deepEqual(hex(t.applyPin(7)), ['f40700', 'd001']);
  t.set(14, { use: 'analog', channel: 0 }, 'a');
  assert.deepEqual(hex(t.applyPin(14)), ['f40e02', 'c001']);
  t.enableI2c();
  // A restore re-enables I2C first, then every pin in order.
  // (the port byte then carries pin 5 high and pin 6's pull-up)
  assert.deepEqual(hex(t.restoreMessages()).slice(0, 2), ['f0780000f7', '906000']);
  assert.ok(t.hasInputs(0));
  assert.ok(!t.hasInputs(1));
});
