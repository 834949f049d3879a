// The GPIO and I2C contract suites that the simulator, cdev and sysfs pass, run against the
// Firmata backend talking to real StandardFirmata (protocol 2.4) in simavr.
import { after, before, describe } from 'node:test';
import { FirmataGpioChip } from '../../src/firmata/gpio-chip.js';
import { FirmataI2cTransport } from '../../src/firmata/i2c-transport.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import { gpioChipContract } from '../gpio/contract.js';
import { i2cBusContract } from '../i2c/contract.js';
import type { BoardAndLink } from './board-fixture.js';
import { emulatorSkipReason, startBoardAndLink, stopBoardAndLink } from './board-fixture.js';

const skip = emulatorSkipReason();

describe('Firmata backend on StandardFirmata 2.4 (simavr ATmega328P)', { skip }, () => {
  let b: BoardAndLink | undefined;
  const it = (): BoardAndLink => {
    if (!b) throw new Error('board not started');
    return b;
  };
  before(async () => {
    b = await startBoardAndLink('standard');
    const { board } = it();
    await board.i2cAttach(0x10, 'reg8');
    await board.i2cAttach(0x76, 'reg8');
  });
  after(() => stopBoardAndLink(b));

  // Pins 0/1 are the UART that carries Firmata: the suite's lines 1-7 are pins 2-8, so its
  // lines 3 and 4 (pins 4, 5) share port 0 for the neighbouring-input test.
  gpioChipContract(
    'firmata',
    () => {
      const { board, link } = it();
      return Promise.resolve({
        chip: new FirmataGpioChip(link),
        pads: { drive: (o, l) => board.drive(o, l), level: (o) => board.level(o) },
      });
    },
    [0, 2, 3, 4, 5, 6, 7, 8],
  );

  i2cBusContract(
    'firmata',
    () => {
      const { board, link } = it();
      return Promise.resolve({
        bus: new QueuedI2cBus(100, new FirmataI2cTransport(link)),
        scratch: { address: 0x10, peek: (r: number, n: number) => board.i2cGet(0x10, r, n) },
        attached: [0x10, 0x76],
      });
    },
    { plainTransfers: true, writeNack: false, maxWrite: 30 },
  );
});
