// Losing the co-processor and getting it back, and refusing firmware that is not (recent
// enough) Firmata: against real firmware images in simavr.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import { FirmataGpioChip } from '../../src/firmata/gpio-chip.js';
import { FirmataI2cTransport } from '../../src/firmata/i2c-transport.js';
import { FirmataLink } from '../../src/firmata/link.js';
import type { LinkState } from '../../src/firmata/link.js';
import type { EdgeEvent, GpioLine } from '../../src/gpio/types.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import type { BoardAndLink } from './board-fixture.js';
import {
  FAST_RECONNECT,
  emulatorSkipReason,
  startBoardAndLink,
  stopBoardAndLink,
} from './board-fixture.js';

const skip = emulatorSkipReason();

function state(link: FirmataLink, want: LinkState): Promise<void> {
  if (link.state === want) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (s: LinkState): void => {
      if (s !== want) return;
      link.off('state', on);
      resolve();
    };
    link.on('state', on);
  });
}

const ready = (link: FirmataLink): Promise<unknown> => new Promise((r) => link.once('ready', r));

describe('reconnection and restore (StandardFirmata 2.4 in simavr)', { skip }, () => {
  let b: BoardAndLink | undefined;
  let out: GpioLine;
  let inp: GpioLine;
  let bus: QueuedI2cBus;
  const edges: EdgeEvent[] = [];
  const it = (): BoardAndLink => {
    if (!b) throw new Error('board not started');
    return b;
  };
  before(async () => {
    b = await startBoardAndLink('standard');
    const chip = new FirmataGpioChip(b.link);
    out = await chip.requestLine(5, { direction: 'output', initial: 1 });
    inp = await chip.requestLine(6, { direction: 'input', bias: 'pull-up', edge: 'both' });
    inp.onEdge((e) => edges.push(e));
    await b.board.i2cAttach(0x76, 'reg8');
    await b.board.i2cSet(0x76, 0xd0, [0x60]);
    bus = new QueuedI2cBus(100, new FirmataI2cTransport(b.link));
    assert.equal(await bus.readByte(0x76, 0xd0), 0x60);
  });
  after(() => stopBoardAndLink(b));

  test('USB reset with an MCU reset: requests fail fast, then lines, pull-up and I2C come back', async () => {
    const { board, link } = it();
    const down = state(link, 'down');
    await board.unplug();
    await down;
    await assert.rejects(out.set(0), (e) => isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'));
    await assert.rejects(bus.readByte(0x76, 0xd0), (e) =>
      isHalError(e, 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN'),
    );
    // Meanwhile the input is pulled low from outside: an edge the host can only see on return.
    await board.drive(6, 0);
    const back = ready(link);
    await board.plug(true); // the MCU boots again: every pin is back to its boot default
    await back;
    assert.equal(await board.level(5), 1, 'the output is driven high again');
    assert.equal(await out.get(), 1);
    assert.equal(await inp.get(), 0);
    assert.deepEqual(
      edges.map((e) => [e.edge, e.value]),
      [['falling', 0]],
      'the change during the outage is reported once',
    );
    await board.drive(6, undefined);
    assert.equal(await inp.get(), 1, 'the pull-up is restored');
    assert.equal(await bus.readByte(0x76, 0xd0), 0x60, 'I2C is enabled again');
    await out.set(0);
    assert.equal(await board.level(5), 0);
  });

  test('USB reset without an MCU reset: reconnects without waiting for a boot', async () => {
    const { board, link } = it();
    const down = state(link, 'down');
    await board.unplug();
    await down;
    const back = ready(link);
    await board.plug(false);
    await back;
    await out.set(1);
    assert.equal(await board.level(5), 1);
    assert.equal(await inp.get(), 1);
  });

  test('an MCU reset with the USB link up is noticed (its boot announcement) and undone', async () => {
    const { board, link } = it();
    const restored = ready(link);
    await board.reset();
    await restored;
    assert.equal(await board.level(5), 1, 'output restored after the reset');
    assert.equal(await out.get(), 1);
    await board.drive(6, undefined);
    assert.equal(await inp.get(), 1, 'pull-up restored after the reset');
  });

  test('a second process cannot take the link: EDGEFLOW_HAL_SERIAL_BUSY', async () => {
    const { board } = it();
    const other = new FirmataLink({
      locate: () => Promise.resolve(board.device),
      reconnect: FAST_RECONNECT,
    });
    await assert.rejects(other.connect(), (e) => isHalError(e, 'EDGEFLOW_HAL_SERIAL_BUSY'));
    await other.close();
  });
});

describe('firmware that is not Firmata, or too old, is refused', { skip }, () => {
  test('Blink (no Firmata at all): EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE', async () => {
    await assert.rejects(startBoardAndLink('blink', { handshakeTimeoutMs: 3500 }), (e) => {
      assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE'), String(e));
      assert.match((e as Error).message, /nothing came back; flash StandardFirmata/);
      return true;
    });
  });

  test('StandardFirmata 2.3 where 2.4 is required: EDGEFLOW_HAL_FIRMATA_VERSION', async () => {
    await assert.rejects(startBoardAndLink('older', { minProtocol: [2, 4] }), (e) => {
      assert.ok(isHalError(e, 'EDGEFLOW_HAL_FIRMATA_VERSION'), String(e));
      assert.match((e as Error).message, /Firmata 2\.3; at least 2\.4 is required/);
      return true;
    });
  });

  test('StandardFirmata 2.3 is accepted by default and toggles a pin', async () => {
    const b = await startBoardAndLink('older');
    try {
      assert.equal(b.link.firmware?.protocol, '2.3');
      const line = await new FirmataGpioChip(b.link).requestLine(9, {
        direction: 'output',
        initial: 1,
      });
      assert.equal(await b.board.level(9), 1);
      await line.set(0);
      assert.equal(await b.board.level(9), 0);
    } finally {
      await stopBoardAndLink(b);
    }
  });
});
