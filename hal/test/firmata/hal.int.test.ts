// The whole HAL on a co-processor board: detection finds the MCU on USB by VID:PID under the
// configured root, createHal polls a BME280 on the co-processor's I2C (bus 100) and an analog
// input, drives and watches GPIO through Firmata, survives a USB reset; the CLI shows the link
// and the firmware version. Real StandardFirmata in simavr behind the tty node.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/cli.js';
import type { GpioEdge, Hal, HalProblem, Reading } from '../../src/poller/hal.js';
import { createHal } from '../../src/poller/create-hal.js';
import { FirmataBoard } from '../helpers/firmata-board.js';
import { emulatedBoardProfile, emulatedRoot } from '../helpers/emulated-board.js';
import { FAST_RECONNECT, emulatorSkipReason } from './board-fixture.js';

const skip = emulatorSkipReason();
const profiles = [emulatedBoardProfile];

const CAL_TP = [
  0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b, 0x8c, 0x00,
  0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b,
];
const BME_DATA = [0x65, 0x5a, 0xc0, 0x7e, 0xed, 0x00, 0x6a, 0x31]; // adc_P 415148, adc_T 519888

function capture(): {
  io: { stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv };
  out: () => string;
  err: () => string;
} {
  let o = '';
  let e = '';
  const w = (f: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  return {
    io: { stdout: w((s) => (o += s)), stderr: w((s) => (e += s)), env: {} },
    out: () => o,
    err: () => e,
  };
}

function next<T>(
  hal: Hal,
  event: 'reading' | 'edge' | 'problem',
  pred: (x: T) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    const on = (x: T): void => {
      if (!pred(x)) return;
      hal.off(event, on as never);
      resolve(x);
    };
    hal.on(event, on as never);
  });
}

describe('createHal and the CLI on an emulated co-processor board', { skip }, () => {
  let board: FirmataBoard;
  let root: { root: string; remove: () => void };
  before(async () => {
    board = await FirmataBoard.start('standard');
    root = emulatedRoot(board.device);
    await board.i2cAttach(0x76, 'reg8');
    await board.i2cSet(0x76, 0xd0, [0x60]);
    await board.i2cSet(0x76, 0x88, CAL_TP);
    await board.i2cSet(0x76, 0xf7, BME_DATA);
    await board.analog(0, 2500);
  });
  after(async () => {
    await board.stop();
    root.remove();
  });

  test('hal detect names the board, the link and the firmware version', async () => {
    const c = capture();
    assert.equal(await runCli(['detect', '--root', root.root], c.io, { profiles }), 0, c.err());
    const text = c.out();
    assert.match(text, /board: +emulated-firmata-board .*\[matched by dmi\]/);
    assert.match(text, /gpio backend: firmata/);
    assert.match(text, /co-processor: atmega328p "Arduino Uno" \(USB 2341:0043, port 1-2\)/);
    assert.match(text, /link: +\S+\/dev\/ttyACM0 \(ttyACM0, firmata over USB serial\)/);
    assert.match(
      text,
      /firmware: +StandardFirmata\.ino 2\.4 \(Firmata protocol 2\.4\): 20 pins, 18 digital, I2C on 18\/19, analog 14=A0 15=A1 16=A2 17=A3 18=A4 19=A5/,
    );
  });

  test('the CLI drives a pin and scans the co-processor bus', async () => {
    const set = capture();
    assert.equal(
      await runCli(['gpio', 'set', 'D9', '1', '--root', root.root], set.io, { profiles }),
      0,
      set.err(),
    );
    assert.match(set.out(), /D9 \(firmata:9\) set to 1/);
    assert.equal(await board.level(9), 1);
    const scan = capture();
    assert.equal(
      await runCli(['i2c', 'scan', '100', '--root', root.root], scan.io, { profiles }),
      0,
      scan.err(),
    );
    assert.equal(scan.out(), 'i2c-100: 0x76\n');
  });

  test('createHal: sensor, analog and GPIO through the co-processor, back after a USB reset', async () => {
    const hal = await createHal(
      {
        board: 'auto',
        root: root.root,
        fallbackToSim: false,
        demo: false,
        sensors: [{ type: 'bme280', id: 'env', intervalMs: 200, retry: { minMs: 50, maxMs: 200 } }],
        analog: [{ name: 'pot', pin: 'A0', intervalMs: 200, retry: { minMs: 50, maxMs: 200 } }],
        gpio: [
          { name: 'relay', pin: 'D5', direction: 'output' },
          { name: 'button', pin: 'D6', direction: 'input', bias: 'pull-up' },
        ],
      },
      { profiles, firmataLink: { reconnect: FAST_RECONNECT }, sleep: () => Promise.resolve() },
    );
    const problems: HalProblem[] = [];
    hal.on('problem', (p) => problems.push(p));
    assert.equal(hal.board.profile.id, 'emulated-firmata-board');
    const temp = next<Reading>(hal, 'reading', (r) => r.key === 'hal.env/temperature');
    const pot = next<Reading>(hal, 'reading', (r) => r.key === 'hal.pot/voltage');
    await hal.start();
    try {
      assert.equal((await temp).value, 25.08);
      assert.equal((await temp).source, 'i2c-100/0x76/bme280');
      const v = Number((await pot).value);
      assert.ok(Math.abs(v - 2.5) < 0.02, `A0 read ${v} V`);
      assert.equal(await hal.getLine('button'), 1, 'pull-up');
      const press = next<GpioEdge>(hal, 'edge', (e) => e.name === 'button');
      await board.drive(6, 0);
      assert.deepEqual([(await press).edge, (await press).value], ['falling', 0]);
      await hal.setOutput('relay', 1);
      assert.equal(await board.level(5), 1);

      // The CLI cannot take the link while the agent's HAL holds it: a clear error, exit 1.
      const busy = capture();
      assert.equal(
        await runCli(['gpio', 'get', 'D7', '--root', root.root], busy.io, { profiles }),
        1,
      );
      assert.match(busy.err(), /EDGEFLOW_HAL_SERIAL_BUSY/);

      // USB reset with an MCU reset: the poller reports the outage, then readings resume and
      // the relay is driven again.
      await board.unplug();
      await next<HalProblem>(
        hal,
        'problem',
        (p) => p.error.code === 'EDGEFLOW_HAL_FIRMATA_LINK_DOWN',
      );
      await board.plug(true);
      await next<Reading>(
        hal,
        'reading',
        (r) => r.key === 'hal.env/temperature' && r.quality === 'good',
      );
      await next<Reading>(hal, 'reading', (r) => r.key === 'hal.pot/voltage');
      assert.equal(await board.level(5), 1, 'relay restored after the reset');
      assert.equal(await hal.getLine('relay'), 1);
      assert.ok(problems.every((p) => p.error.code.startsWith('EDGEFLOW_HAL_')));
    } finally {
      await hal.stop();
    }
    // Stopped: the link is released (the CLI can open it again).
    const after = capture();
    assert.equal(
      await runCli(['gpio', 'get', 'D7', '--root', root.root], after.io, { profiles }),
      0,
      after.err(),
    );
  });

  test('a co-processor that enumerates after start: its relay works once it is on USB', async () => {
    // At boot the MCU is still enumerating: its tty is not in sysfs yet.
    const late = emulatedRoot(board.device);
    const tty = join(late.root, 'sys/class/tty/ttyACM0');
    renameSync(tty, `${tty}.later`);
    const retry = { minMs: 50, maxMs: 200 };
    const hal = await createHal(
      {
        root: late.root,
        fallbackToSim: false,
        demo: false,
        gpio: [{ name: 'relay', pin: 'D5', direction: 'output', initial: 0, retry }],
      },
      { profiles, firmataLink: { reconnect: FAST_RECONNECT }, sleep: () => Promise.resolve() },
    );
    const missing = next<HalProblem>(hal, 'problem', () => true);
    await hal.start();
    try {
      assert.equal(hal.board.coprocessor, undefined, 'not on USB at detection');
      assert.equal((await missing).error.code, 'EDGEFLOW_HAL_MCU_NOT_FOUND');
      await assert.rejects(
        hal.setOutput('relay', 1),
        (e: Error & { code?: string }) =>
          e.code === 'EDGEFLOW_HAL_LINE_UNAVAILABLE' &&
          /relay.*not available yet: the atmega328p co-processor .* is not on USB now/.test(
            e.message,
          ),
      );
      const up = next<Reading>(hal, 'reading', (r) => r.key === 'hal.gpio/relay');
      renameSync(`${tty}.later`, tty);
      assert.equal((await up).value, false);
      assert.equal(await board.level(5), 0, 'requested as an output at its initial level');
      await hal.setOutput('relay', 1);
      assert.equal(await board.level(5), 1);
    } finally {
      await hal.stop();
      late.remove();
    }
  });
});
