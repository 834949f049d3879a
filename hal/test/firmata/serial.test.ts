// Opening the co-processor's serial device through the real binding (@serialport/bindings-cpp):
// what goes wrong is said once, in the HAL's words, with the binding's reason after it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import { loadSerialOpener } from '../../src/firmata/serial.js';
import { toHalError } from '../../src/poller/events.js';

const opener = await loadSerialOpener().catch((e: Error) => e);
const skip =
  opener instanceof Error ? `the serial binding does not load: ${opener.message}` : false;

test(
  'a device that is not a tty, or is not there: one clear message, no stray "Error:"',
  { skip },
  async () => {
    if (opener instanceof Error) return;
    await assert.rejects(opener('/dev/null'), (e) => {
      assert.ok(isHalError(e, 'EDGEFLOW_HAL_MCU_NOT_FOUND'), String(e));
      assert.match(
        (e as Error).message,
        /^\/dev\/null is not a serial \(tty\) device: Inappropriate ioctl for device/,
      );
      return true;
    });
    await assert.rejects(opener('/nonexistent-edgeflow-tty'), (e) => {
      assert.ok(isHalError(e, 'EDGEFLOW_HAL_MCU_NOT_FOUND'), String(e));
      assert.match(
        (e as Error).message,
        /^\/nonexistent-edgeflow-tty does not exist: No such file or directory/,
      );
      assert.doesNotMatch((e as Error).message, /Error:/);
      return true;
    });
  },
);

test('a failure that is not a HalError is "<source>: <message>", not "<source>: Error: <message>"', () => {
  const e = toHalError(
    new Error('EIO reading the port'),
    'analog/A0',
    'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
  );
  assert.equal(e.code, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN');
  assert.equal(e.message, 'analog/A0: EIO reading the port');
  assert.equal(toHalError('plain text', 'x').message, 'x: plain text');
});
