import assert from 'node:assert/strict';
import { test } from 'node:test';
import { I2cNoAckError, isHalError } from '../../src/errors.js';
import type { I2cBus } from '../../src/i2c/types.js';

/** A byte-register device (auto-incrementing pointer) the suite can look into from outside. */
export interface ScratchDevice {
  readonly address: number;
  /** Registers as the device holds them (not read through the bus under test). */
  peek(register: number, length: number): Promise<number[]> | number[];
}

/** What differs between adapters, so the suite knows what to expect of each. */
export interface I2cBusTraits {
  /** Plain (non-SMBus) read/write transfers; i2c-stub refuses them. */
  readonly plainTransfers: boolean;
  /** A write to an absent address is reported; StandardFirmata ignores the NACK. */
  readonly writeNack: boolean;
  /** Largest I2C write (register + data bytes), when the adapter has a limit of its own. */
  readonly maxWrite?: number;
}

/**
 * The I2cBus contract: every adapter (the simulator, /dev/i2c-N, the Firmata co-processor)
 * must pass it. `open` gives the bus under test and a scratch device on it; addresses
 * 0x50-0x51 must be free. The bus is closed by the caller.
 */
export function i2cBusContract(
  name: string,
  open: () => Promise<{ bus: I2cBus; scratch: ScratchDevice; attached: readonly number[] }>,
  traits: I2cBusTraits,
): void {
  test(`${name}: byte, word and block transfers round-trip`, async () => {
    const { bus, scratch } = await open();
    const a = scratch.address;
    await bus.writeByte(a, 0x20, 0xab);
    assert.equal(await bus.readByte(a, 0x20), 0xab);
    assert.deepEqual(await scratch.peek(0x20, 1), [0xab]);
    await bus.writeWord(a, 0x30, 0x1234);
    assert.equal(await bus.readWord(a, 0x30), 0x1234);
    // SMBus word order: low byte first on the wire, so at the lower register.
    assert.deepEqual(await scratch.peek(0x30, 2), [0x34, 0x12]);
    const n = Math.min((traits.maxWrite ?? 33) - 1, 32);
    const block = Array.from({ length: n }, (_, i) => (i * 37 + 1) & 0xff);
    await bus.writeBlock(a, 0x40, Uint8Array.from(block));
    assert.deepEqual([...(await bus.readBlock(a, 0x40, block.length))], block);
  });

  test(`${name}: concurrent callers are serialised and each gets its own answer`, async () => {
    const { bus, scratch } = await open();
    const regs = Array.from({ length: 24 }, (_, i) => 0x80 + i);
    await Promise.all(regs.map((r) => bus.writeByte(scratch.address, r, r ^ 0x5a)));
    const got = await Promise.all(regs.map((r) => bus.readByte(scratch.address, r)));
    assert.deepEqual(
      got,
      regs.map((r) => r ^ 0x5a),
    );
  });

  test(`${name}: a read from an absent address is a NoAck naming bus and address`, async () => {
    const { bus } = await open();
    await assert.rejects(bus.readByte(0x50, 0), (e) => {
      assert.ok(e instanceof I2cNoAckError, String(e));
      assert.match((e as Error).message, new RegExp(`i2c-${bus.bus} 0x50`));
      return true;
    });
    await assert.rejects(bus.readBlock(0x51, 0, 4), I2cNoAckError);
  });

  test(`${name}: a write to an absent address ${traits.writeNack ? 'is a NoAck' : 'cannot be detected (documented)'}`, async () => {
    const { bus } = await open();
    if (traits.writeNack) await assert.rejects(bus.writeWord(0x51, 1, 2), I2cNoAckError);
    else await bus.writeWord(0x51, 1, 2);
  });

  test(`${name}: plain transfers ${traits.plainTransfers ? 'reach the device' : 'are refused'}`, async () => {
    const { bus, scratch } = await open();
    if (!traits.plainTransfers) {
      await assert.rejects(bus.read(scratch.address, 2), (e) =>
        isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'),
      );
      return;
    }
    // Pointer write, then a plain read continues from it (byte-register device).
    await bus.write(scratch.address, Uint8Array.of(0x60, 0x11, 0x22));
    await bus.write(scratch.address, Uint8Array.of(0x60));
    assert.deepEqual([...(await bus.read(scratch.address, 2))], [0x11, 0x22]);
  });

  test(`${name}: a write larger than the adapter takes is refused before the bus`, async (t) => {
    if (traits.maxWrite === undefined) {
      t.skip('this adapter sets no limit of its own');
      return;
    }
    const { bus, scratch } = await open();
    await assert.rejects(
      bus.writeBlock(scratch.address, 0, new Uint8Array(traits.maxWrite)),
      (e) => isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED') && /at most/.test((e as Error).message),
    );
  });

  test(`${name}: scan() lists exactly the attached addresses`, async () => {
    const { bus, attached } = await open();
    assert.deepEqual(
      await bus.scan(),
      [...attached].sort((x, y) => x - y),
    );
  });
}
