import assert from 'node:assert/strict';
import { test } from 'node:test';
import { I2cBusError, I2cNoAckError, isHalError } from '../../src/errors.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import type { I2cTransport } from '../../src/i2c/types.js';
import { ByteRegisterDevice, SimI2cBus } from '../../src/sim/i2c-bus.js';
import { i2cBusContract } from './contract.js';

test('errno mapping: ENXIO/EREMOTEIO/ENODEV = NoAck, EIO = BusError, EOPNOTSUPP = unsupported', async () => {
  for (const errno of ['ENXIO', 'EREMOTEIO', 'ENODEV'] as const) {
    const bus = new QueuedI2cBus(3, new SimI2cBus({ absentErrno: errno }));
    await assert.rejects(
      bus.readByte(0x50, 0),
      (e) =>
        e instanceof I2cNoAckError && /i2c-3 0x50/.test(e.message) && e.details.errno === errno,
    );
  }
  const sim = new SimI2cBus({ smbusOnly: true }).attach(0x50, new ByteRegisterDevice());
  const bus = new QueuedI2cBus(1, sim);
  await assert.rejects(bus.read(0x50, 2), (e) => isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'));
  sim.fault = 'EIO';
  await assert.rejects(
    bus.readByte(0x50, 0),
    (e) => e instanceof I2cBusError && !(e instanceof I2cNoAckError),
  );
});

test('transactions on one bus never overlap, even when one fails', async () => {
  let active = 0;
  let maxActive = 0;
  const order: number[] = [];
  const slow =
    (n: number, fail = false) =>
    async (): Promise<number> => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setImmediate(r));
      order.push(n);
      active -= 1;
      if (fail) throw Object.assign(new Error('x'), { code: 'EIO' });
      return n;
    };
  const t = { readByte: (_a: number, r: number) => slow(r, r === 2)() } as unknown as I2cTransport;
  const bus = new QueuedI2cBus(1, t);
  const results = await Promise.allSettled([1, 2, 3, 4].map((r) => bus.readByte(0x10, r)));
  assert.equal(maxActive, 1);
  assert.deepEqual(order, [1, 2, 3, 4]);
  assert.equal(results[1]?.status, 'rejected');
  assert.equal(results[3]?.status, 'fulfilled');
});

test('scan lists the attached addresses', async () => {
  const sim = new SimI2cBus()
    .attach(0x76, new ByteRegisterDevice())
    .attach(0x40, new ByteRegisterDevice());
  assert.deepEqual(await new QueuedI2cBus(1, sim).scan(), [0x40, 0x76]);
});

// The I2cBus contract on the simulated adapter; the Firmata adapter runs it against real
// firmware in test/firmata/emulator.int.test.ts.
class ScratchRegisters extends ByteRegisterDevice {
  peek(register: number, length: number): number[] {
    return [...this.regs.subarray(register, register + length)];
  }
}
{
  const scratchDevice = new ScratchRegisters();
  const sim = new SimI2cBus().attach(0x10, scratchDevice).attach(0x76, new ByteRegisterDevice());
  const bus = new QueuedI2cBus(1, sim);
  const scratch = { address: 0x10, peek: (r: number, n: number) => scratchDevice.peek(r, n) };
  i2cBusContract('sim', () => Promise.resolve({ bus, scratch, attached: [0x10, 0x76] }), {
    plainTransfers: true,
    writeNack: true,
  });
}
