import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compensateDouble,
  compensateP,
  compensateT,
  encodeCalibration,
  parseCalibration,
} from '../../src/drivers/bme280-compensation.js';
import { Bme280 } from '../../src/drivers/bme280.js';
import { isHalError } from '../../src/errors.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import { Bme280Model, EXAMPLE_CALIBRATION } from '../../src/sim/bme280-model.js';
import { SimI2cBus } from '../../src/sim/i2c-bus.js';
import { FakeClock } from '../helpers/fake-clock.js';

// Bosch's worked example (BMP280 datasheet 3.12; the BME280 uses the same T/P
// formulas): dig_T1..3, dig_P1..9, adc_T = 519888, adc_P = 415148.
test('datasheet worked example: temperature and t_fine exactly', () => {
  const t = compensateT(519888, EXAMPLE_CALIBRATION);
  assert.equal(t.tFine, 128422);
  assert.equal(t.t100, 2508); // 25.08 degC
  const d = compensateDouble(519888, 415148, EXAMPLE_CALIBRATION);
  assert.equal(d.tFine, 128422);
  assert.equal(d.t.toFixed(2), '25.08');
});

test('datasheet worked example: pressure', () => {
  const p = compensateP(415148, 128422, EXAMPLE_CALIBRATION);
  // The published 64-bit formula yields 25767233 (Q24.8) = 100653.25 Pa; the
  // example figure prints 25767236 / 100653.27 Pa. The 3-LSB (0.012 Pa) gap is
  // in the datasheet itself (independent implementations get the same value).
  assert.equal(p, 25767233);
  assert.ok(Math.abs(p / 256 - 100653.27) < 0.02);
  const d = compensateDouble(519888, 415148, EXAMPLE_CALIBRATION);
  assert.ok(Math.abs(d.p - 100653.27) < 0.02);
});

test('calibration registers round-trip', () => {
  const { tp, h } = encodeCalibration(EXAMPLE_CALIBRATION);
  assert.deepEqual(parseCalibration(tp, h), EXAMPLE_CALIBRATION);
});

function rig(): { clock: FakeClock; model: Bme280Model; sim: SimI2cBus; driver: Bme280 } {
  const clock = new FakeClock();
  const model = new Bme280Model(clock.now);
  const sim = new SimI2cBus().attach(0x76, model);
  const driver = new Bme280({
    bus: new QueuedI2cBus(1, sim),
    address: 0x76,
    deps: { sleep: clock.sleep },
  });
  return { clock, model, sim, driver };
}

test('driver reads the register model: T, P, H', async () => {
  const { model, driver } = rig();
  model.temperatureC = 23.45;
  model.pressurePa = 98765;
  model.humidityPct = 61.5;
  const v = await driver.read();
  const by = Object.fromEntries(v.map((x) => [x.quantity, x]));
  assert.equal(by.temperature?.value, 23.45);
  assert.equal(by.temperature?.unit, 'Cel');
  assert.ok(Math.abs((by.pressure?.value ?? 0) - 98765) < 1);
  assert.ok(Math.abs((by.humidity?.value ?? 0) - 61.5) < 0.05);
});

test('wrong chip id and absent device are typed errors', async () => {
  const { sim } = rig();
  const clock = new FakeClock();
  const bus = new QueuedI2cBus(1, sim);
  const other = new Bme280({ bus, address: 0x77, deps: { sleep: clock.sleep } });
  await assert.rejects(
    other.read(),
    (e) => isHalError(e, 'EDGEFLOW_HAL_I2C_NO_ACK') && /0x77/.test(e.message),
  );
  const model = new Bme280Model(clock.now);
  model.write(Uint8Array.of(0xd0));
  (model as unknown as { regs: Uint8Array }).regs[0xd0] = 0x58; // a BMP280
  sim.attach(0x77, model);
  await assert.rejects(other.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_ID_MISMATCH'));
});

test('a measurement that never finishes is NOT_READY, not a value', async () => {
  const { sim } = rig();
  // A sleep that does not advance the model's clock: the part stays "measuring".
  const stuck = new Bme280({
    bus: new QueuedI2cBus(1, sim),
    address: 0x76,
    deps: { sleep: () => Promise.resolve() },
  });
  await assert.rejects(stuck.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_NOT_READY'));
});
