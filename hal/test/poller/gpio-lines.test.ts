// GPIO lines whose request fails at start (a co-processor still enumerating, a line another
// process holds for a moment) are requested again with backoff, and until then every use of
// the line says why it is not there, never "no GPIO line named ...".
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isHalError } from '../../src/errors.js';
import type { Hal, HalProblem, Reading } from '../../src/poller/hal.js';
import { createHal } from '../../src/poller/create-hal.js';
import { SimWorld } from '../../src/sim/sim-world.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedSerial, firmware } from '../helpers/scripted-serial.js';

const RETRY = { minMs: 100, maxMs: 1000, factor: 2, jitter: 0 };

function deps(clock: FakeClock, world: SimWorld) {
  return {
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    sleep: clock.sleep,
    random: () => 0.5,
    simWorld: world,
  };
}

/** Another process holds header pin 11 (GPIO17) as the HAL starts. */
function holdGpio17(world: SimWorld): () => void {
  const handle = world.gpio.request(
    17,
    {
      direction: 'input',
      bias: 'as-is',
      activeLow: false,
      edge: 'none',
      debounceNs: 0n,
      initialLevel: 0,
    },
    'other-daemon',
  );
  return () => handle.release();
}

test('a line whose request fails at start is requested again with backoff', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const release = holdGpio17(world);
  const hal = await createHal(
    {
      board: 'sim',
      demo: false,
      gpio: [{ name: 'relay', pin: 11, direction: 'output', retry: RETRY }],
    },
    deps(clock, world),
  );
  const problems: HalProblem[] = [];
  const readings: Reading[] = [];
  hal.on('problem', (p) => problems.push(p));
  hal.on('reading', (r) => readings.push(r));
  await hal.start();
  try {
    assert.equal(problems.length, 1);
    assert.ok(isHalError(problems[0]?.error, 'EDGEFLOW_HAL_LINE_BUSY'), String(problems[0]?.error));
    assert.equal(problems[0]?.retryInMs, 100, 'retried: the problem says when');

    // While it is pending, the line is listed as such and every use says why.
    const [listed] = hal.gpio();
    assert.equal(listed?.name, 'relay');
    assert.equal(listed?.state, 'pending');
    assert.equal(listed?.error?.code, 'EDGEFLOW_HAL_LINE_BUSY');
    for (const use of [() => hal.setOutput('relay', 1), () => hal.getLine('relay')]) {
      await assert.rejects(use(), (e) => {
        assert.ok(isHalError(e, 'EDGEFLOW_HAL_LINE_UNAVAILABLE'), String(e));
        assert.match(
          (e as Error).message,
          /GPIO line "relay" \(pin 11\) is not available yet: .*line already in use; attempt 1, next in 100 ms/,
        );
        return true;
      });
    }

    await clock.advance(100 + 200); // two more attempts, still held
    assert.deepEqual(
      problems.map((p) => p.retryInMs),
      [100, 200, 400],
    );
    release();
    await clock.advance(400);
    assert.equal(problems.length, 3, 'no problem once the line is free');
    assert.equal(hal.gpio()[0]?.state, 'ready');
    assert.equal(hal.gpio()[0]?.error, undefined);
    assert.deepEqual(
      readings.map((r) => [r.key, r.value]),
      [['hal.gpio/relay', false]],
      'the line reports its level once requested',
    );
    await hal.setOutput('relay', 1);
    assert.equal(world.gpio.level(17), 1);
    assert.equal(world.gpio.consumer(17), 'edgeflow:relay');
  } finally {
    await hal.stop();
  }
  assert.equal(world.gpio.consumer(17), undefined, 'released on stop');
});

test('stop() ends the retries of a pending line', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const release = holdGpio17(world);
  const hal = await createHal(
    {
      board: 'sim',
      demo: false,
      gpio: [{ name: 'relay', pin: 11, direction: 'output', retry: RETRY }],
    },
    deps(clock, world),
  );
  const problems: HalProblem[] = [];
  hal.on('problem', (p) => problems.push(p));
  await hal.start();
  await hal.stop();
  release();
  await clock.advance(10_000);
  assert.equal(problems.length, 1);
  assert.equal(world.gpio.consumer(17), undefined, 'not requested after stop');
});

test('a pin the board does not have is not retried, and its uses say so', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const hal = await createHal(
    { board: 'sim', demo: false, gpio: [{ name: 'ghost', pin: 'GPIO99', direction: 'input' }] },
    deps(clock, world),
  );
  const problems: HalProblem[] = [];
  hal.on('problem', (p) => problems.push(p));
  await hal.start();
  try {
    assert.equal(problems.length, 1);
    assert.ok(isHalError(problems[0]?.error, 'EDGEFLOW_HAL_UNKNOWN_PIN'));
    assert.equal(problems[0]?.retryInMs, undefined, 'not retried: the profile will not change');
    assert.equal(hal.gpio()[0]?.state, 'failed');
    await assert.rejects(
      hal.getLine('ghost'),
      (e) =>
        isHalError(e, 'EDGEFLOW_HAL_LINE_UNAVAILABLE') &&
        /GPIO line "ghost" \(pin GPIO99\) is not available: .*GPIO99.*; not retried/.test(
          (e as Error).message,
        ),
    );
    await clock.advance(120_000);
    assert.equal(problems.length, 1);
  } finally {
    await hal.stop();
  }
});

/** The next `event` for which `pred` holds. */
function next<T>(hal: Hal, event: 'reading' | 'problem', pred: (x: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (x: T): void => {
      if (!pred(x)) return;
      hal.off(event, on as never);
      resolve(x);
    };
    hal.on(event, on as never);
  });
}

test('a LattePanda whose co-processor enumerates after start gets its relay once it is on USB', async (t) => {
  // The 3 Delta fixture with its ATmega32U4 not (yet) on USB: its tty is taken out of sysfs.
  const fixture = fileURLToPath(
    new URL('../../../test/fixtures/boards/lattepanda-3-delta', import.meta.url),
  );
  const root = mkdtempSync(join(tmpdir(), 'ef-latte-'));
  const parked = mkdtempSync(join(tmpdir(), 'ef-latte-parked-'));
  t.after(() => [root, parked].forEach((d) => rmSync(d, { recursive: true, force: true })));
  cpSync(fixture, root, { recursive: true, verbatimSymlinks: true });
  const tty = join(root, 'sys/class/tty/ttyACM0');
  renameSync(tty, join(parked, 'ttyACM0'));

  let serial: ScriptedSerial | undefined;
  const fast = { minMs: 20, maxMs: 40, factor: 2, jitter: 0 };
  const hal = await createHal(
    {
      root,
      fallbackToSim: false,
      demo: false,
      gpio: [{ name: 'relay', pin: 'D5', direction: 'output', retry: fast }],
    },
    {
      firmataLink: {
        // StandardFirmata 2.4 as recorded, behind whatever device the link locates.
        open: () =>
          Promise.resolve((device: string) => {
            serial = new ScriptedSerial(firmware(), device);
            return Promise.resolve(serial);
          }),
        reconnect: fast,
      },
    },
  );
  assert.equal(hal.board.profile.id, 'lattepanda-3-delta');
  assert.equal(hal.board.coprocessor, undefined, 'not on USB at detection');
  const problems: HalProblem[] = [];
  hal.on('problem', (p) => problems.push(p));
  await hal.start();
  try {
    assert.ok(
      isHalError(problems[0]?.error, 'EDGEFLOW_HAL_MCU_NOT_FOUND'),
      String(problems[0]?.error),
    );
    assert.equal(problems[0]?.retryInMs, 20);
    await assert.rejects(hal.setOutput('relay', 1), (e) => {
      assert.ok(isHalError(e, 'EDGEFLOW_HAL_LINE_UNAVAILABLE'), String(e));
      assert.match(
        (e as Error).message,
        /GPIO line "relay" \(pin D5\) is not available yet: the atmega32u4 co-processor \(USB 3343:803a or .*\) is not on USB now/,
      );
      return true;
    });
    assert.equal(hal.gpio()[0]?.state, 'pending');

    // The co-processor enumerates: the line is requested at its next attempt.
    const up = next<Reading>(hal, 'reading', (r) => r.key === 'hal.gpio/relay');
    renameSync(join(parked, 'ttyACM0'), tty);
    assert.equal((await up).source, 'gpio/firmata:5');
    assert.equal(hal.gpio()[0]?.state, 'ready');
    await hal.setOutput('relay', 1);
    assert.ok(
      serial?.written.includes('902000'),
      `pin 5 driven high: ${serial?.written.join(' ')}`,
    );
    assert.ok(serial?.path.endsWith('usb-LattePanda_LattePanda_Leonardo-if00'), serial?.path);
  } finally {
    await hal.stop();
  }
});
