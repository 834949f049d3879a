import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHalError } from '../../src/errors.js';
import type { GpioEdge, HalProblem, Reading } from '../../src/poller/hal.js';
import { createHal, parseHalConfig } from '../../src/poller/create-hal.js';
import { SimWorld } from '../../src/sim/sim-world.js';
import { FakeClock } from '../helpers/fake-clock.js';

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

test('defaults: the simulator board with demo sensors emits live readings', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const hal = await createHal({ board: 'sim' }, deps(clock, world));
  const readings: Reading[] = [];
  hal.on('reading', (r) => readings.push(r));
  await hal.start();
  await clock.advance(10);
  const keys = new Set(readings.map((r) => r.key));
  for (const k of [
    'hal.env/temperature',
    'hal.env/pressure',
    'hal.env/humidity',
    'hal.climate/humidity',
    'hal.adc/ain0',
    'hal.power/current',
  ]) {
    assert.ok(keys.has(k), k);
  }
  assert.ok(
    readings.every(
      (r) => r.quality === 'good' && typeof r.ts === 'number' && r.source.startsWith('i2c-1/'),
    ),
  );
  await hal.stop();
});

test('a failing sensor is retried with backoff and its last value marked stale', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const hal = await createHal(
    {
      board: 'sim',
      sensors: [
        {
          type: 'sht3x',
          id: 'sht',
          intervalMs: 1000,
          retry: { minMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
        },
      ],
    },
    deps(clock, world),
  );
  const readings: Reading[] = [];
  const problems: HalProblem[] = [];
  hal.on('reading', (r) => readings.push(r));
  hal.on('problem', (p) => problems.push(p));
  await hal.start();
  await clock.advance(100);
  assert.equal(readings.filter((r) => r.quality === 'good').length, 2);
  world.i2c.detach(0x44); // the sensor disappears
  await clock.advance(1000 + 100 + 200 + 50);
  assert.ok(problems.length >= 3);
  assert.ok(problems.every((p) => isHalError(p.error, 'EDGEFLOW_HAL_I2C_NO_ACK')));
  assert.deepEqual(
    problems.slice(0, 3).map((p) => p.retryInMs),
    [100, 200, 400],
  );
  const stale = readings.filter((r) => r.quality === 'stale');
  assert.equal(stale.length, 2, 'stale marked once per quantity');
  world.i2c.attach(0x44, world.sht3x); // it comes back
  await clock.advance(1000);
  assert.equal(readings.at(-1)?.quality, 'good');
  await hal.stop();
});

test('gpio: outputs are set by name, input edges become events and readings', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const hal = await createHal(
    {
      board: 'sim',
      demo: false,
      gpio: [
        { name: 'relay', pin: 11, direction: 'output' },
        { name: 'button', pin: 'GPIO27', direction: 'input', bias: 'pull-up', activeLow: true },
        { name: 'ghost', pin: 'GPIO99', direction: 'input' },
      ],
    },
    deps(clock, world),
  );
  const edges: GpioEdge[] = [];
  const problems: HalProblem[] = [];
  hal.on('edge', (e) => edges.push(e));
  hal.on('problem', (p) => problems.push(p));
  await hal.start();
  assert.ok(
    problems.some(
      (p) => isHalError(p.error, 'EDGEFLOW_HAL_UNKNOWN_PIN') && /GPIO99/.test(p.error.message),
    ),
  );
  await hal.setOutput('relay', 1);
  assert.equal(world.gpio.level(17), 1);
  assert.equal(await hal.getLine('relay'), 1);
  const got = new Promise<GpioEdge>((r) => hal.once('edge', r));
  world.gpio.drive(27, 0); // pressed: active-low input goes logical 1
  const e = await got;
  assert.deepEqual([e.name, e.edge, e.value], ['button', 'rising', 1]);
  await assert.rejects(hal.setOutput('button', 1), (err) =>
    isHalError(err, 'EDGEFLOW_HAL_LINE_DIRECTION'),
  );
  await assert.rejects(hal.setOutput('nope', 1), (err) =>
    isHalError(err, 'EDGEFLOW_HAL_UNKNOWN_PIN'),
  );
  await hal.stop();
  assert.equal(world.gpio.consumer(17), undefined, 'lines released on stop');
});

test("a sensor without bus clashes with one on the board's first bus at start", async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  const sensors = [
    { type: 'bme280', id: 'a' },
    { type: 'bme280', id: 'b', bus: 1 },
  ] as const;
  assert.equal(parseHalConfig({ sensors }).sensors.length, 2, 'not decidable before detection');
  await assert.rejects(
    createHal({ board: 'sim', sensors: [...sensors] }, deps(clock, world)),
    (e) =>
      isHalError(e, 'EDGEFLOW_HAL_ADDRESS_CONFLICT') &&
      /sensors "a" and "b" both use bus 1 address 0x76/.test(e.message),
  );
});

test('config errors name the bad key; two sensors on one address are refused', () => {
  assert.throws(
    () =>
      parseHalConfig({
        sensors: [
          { type: 'bme280', id: 'a' },
          { type: 'bme280', id: 'b' },
        ],
      }),
    (e) =>
      isHalError(e, 'EDGEFLOW_HAL_ADDRESS_CONFLICT') &&
      /sensors\.1\.address/.test(e.message) &&
      /0x76/.test(e.message),
  );
  const other = parseHalConfig({
    sensors: [
      { type: 'bme280', id: 'a', bus: 1 },
      { type: 'bme280', id: 'b', bus: 3 },
    ],
  });
  assert.equal(other.sensors.length, 2, 'the same address on two buses is fine');
  assert.throws(
    () => parseHalConfig({ bogus: 1 }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_BAD_CONFIG'),
  );
  assert.throws(
    () => parseHalConfig({ gpio: [{ name: 'x', pin: 3, direction: 'sideways' }] }),
    (e) => isHalError(e, 'EDGEFLOW_HAL_BAD_CONFIG') && /gpio\.0\.direction/.test(e.message),
  );
  const d = parseHalConfig(undefined);
  assert.equal(d.board, 'auto');
  assert.equal(d.demo, true);
});

test('a hal.root that does not exist is not a host without hardware: no simulator, no demo readings', async () => {
  const clock = new FakeClock();
  const world = new SimWorld(clock.now, clock.hrtime);
  // Defaults otherwise: board auto, fallbackToSim and demo on.
  const hal = await createHal({ root: '/nonexistent-edgeflow-root' }, deps(clock, world));
  const readings: Reading[] = [];
  hal.on('reading', (r) => readings.push(r));
  await hal.start();
  await clock.advance(10_000);
  await hal.stop();
  assert.equal(hal.board.profile.id, 'generic');
  assert.equal(hal.board.rootMissing, true);
  assert.equal(hal.simWorld, undefined);
  assert.deepEqual(readings, [], 'no simulated readings');
});
