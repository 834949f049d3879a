// The I2cBus wrapper (QueuedI2cBus over i2c-bus) against the kernel's i2c-stub.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { I2cBusRegistry, I2cNoAckError, i2cBusTransportFactory, isHalError } from '@edgeflow/hal';
import { STUB, stubBus } from './env.js';

const busNo = stubBus();
const registry = new I2cBusRegistry(i2cBusTransportFactory());
const bus = await registry.open(busNo);
after(() => registry.closeAll());

test('i2c-stub: byte, word and I2C-block transfers round-trip', async () => {
  const a = STUB.scratch;
  await bus.writeByte(a, 0x20, 0xab);
  assert.equal(await bus.readByte(a, 0x20), 0xab);
  await bus.writeWord(a, 0x30, 0x1234);
  assert.equal(await bus.readWord(a, 0x30), 0x1234);
  await bus.writeBlock(a, 0x40, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual([...(await bus.readBlock(a, 0x40, 8))], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('i2c-stub: concurrent callers are serialised per bus and all get their own answer', async () => {
  const a = STUB.scratch;
  const regs = Array.from({ length: 32 }, (_, i) => 0x80 + i);
  await Promise.all(regs.map((r) => bus.writeByte(a, r, r ^ 0x5a)));
  const got = await Promise.all(regs.map((r) => bus.readByte(a, r)));
  assert.deepEqual(
    got,
    regs.map((r) => r ^ 0x5a),
  );
});

test('a missing address is a typed NoAck naming bus and address (i2c-stub says ENODEV)', async () => {
  await assert.rejects(bus.readByte(0x50, 0), (e) => {
    assert.ok(e instanceof I2cNoAckError, String(e));
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_I2C_NO_ACK'));
    assert.match(e.message, new RegExp(`i2c-${busNo} 0x50`));
    assert.equal(e.details.errno, 'ENODEV');
    return true;
  });
  await assert.rejects(bus.writeWord(0x51, 1, 2), I2cNoAckError);
});

test('plain (non-SMBus) transfers are refused by i2c-stub: EDGEFLOW_HAL_UNSUPPORTED', async () => {
  await assert.rejects(bus.read(STUB.scratch, 2), (e) => isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'));
  await assert.rejects(bus.write(STUB.scratch, Uint8Array.from([0x24, 0x00])), (e) =>
    isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'),
  );
});

test('scan() lists exactly the addresses i2c-stub serves', async () => {
  assert.deepEqual(
    await bus.scan(),
    Object.values(STUB).sort((x, y) => x - y),
  );
});

test('a bus that does not exist is EDGEFLOW_HAL_BUS_NOT_FOUND on first use', async () => {
  // i2c-bus opens /dev/i2c-N lazily (per address, on the first transfer).
  const other = new I2cBusRegistry(i2cBusTransportFactory());
  const missing = await other.open(busNo + 7);
  await assert.rejects(missing.readByte(STUB.scratch, 0), (e) => {
    assert.ok(isHalError(e, 'EDGEFLOW_HAL_BUS_NOT_FOUND'), String(e));
    assert.match(e.message, new RegExp(`/dev/i2c-${busNo + 7}`));
    return true;
  });
  await other.closeAll();
});
