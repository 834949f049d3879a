import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ads1115 } from '../../src/drivers/ads1115.js';
import { sensirionCrc8 } from '../../src/drivers/crc8.js';
import { Ina219 } from '../../src/drivers/ina219.js';
import { Sht3x } from '../../src/drivers/sht3x.js';
import { isHalError } from '../../src/errors.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import { Ads1115Model } from '../../src/sim/ads1115-model.js';
import { SimI2cBus } from '../../src/sim/i2c-bus.js';
import { Ina219Model } from '../../src/sim/ina219-model.js';
import { Sht3xModel } from '../../src/sim/sht3x-model.js';
import { FakeClock } from '../helpers/fake-clock.js';

test('Sensirion CRC-8 datasheet example: CRC(0xBEEF) = 0x92', () => {
  assert.equal(sensirionCrc8(Uint8Array.of(0xbe, 0xef)), 0x92);
});

function sht(): { clock: FakeClock; model: Sht3xModel; driver: Sht3x } {
  const clock = new FakeClock();
  const model = new Sht3xModel(clock.now);
  const bus = new QueuedI2cBus(1, new SimI2cBus().attach(0x44, model));
  return { clock, model, driver: new Sht3x({ bus, address: 0x44, deps: { sleep: clock.sleep } }) };
}

test('SHT3x: reads temperature and humidity', async () => {
  const { model, driver } = sht();
  model.temperatureC = 24.2;
  model.humidityPct = 38.7;
  const [t, h] = await driver.read();
  assert.ok(Math.abs((t?.value ?? 0) - 24.2) < 0.01);
  assert.ok(Math.abs((h?.value ?? 0) - 38.7) < 0.01);
});

test('SHT3x: a bad CRC is an error, never a value', async () => {
  const { model, driver } = sht();
  model.corruptNextCrc();
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_CRC_MISMATCH'));
  assert.equal((await driver.read()).length, 2);
});

test('SHT3x: a part that keeps NACKing (still measuring) is NOT_READY', async () => {
  const clock = new FakeClock();
  const model = new Sht3xModel(clock.now);
  const bus = new QueuedI2cBus(1, new SimI2cBus().attach(0x44, model));
  const driver = new Sht3x({ bus, address: 0x44, deps: { sleep: () => Promise.resolve() } });
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_NOT_READY'));
});

test('ADS1115: single-shot conversions honour gain and data rate', async () => {
  const clock = new FakeClock();
  const model = new Ads1115Model(clock.now);
  model.inputs[0] = 1.234;
  model.inputs[2] = 0.2;
  const bus = new QueuedI2cBus(1, new SimI2cBus().attach(0x48, model));
  const adc = new Ads1115({ bus, address: 0x48, deps: { sleep: clock.sleep } }, [
    { channel: 0, fullScale: 2.048, dataRate: 8 },
    { channel: 2, fullScale: 0.256, dataRate: 860, name: 'shunt' },
  ]);
  const t0 = clock.ms;
  const [a, b] = await adc.read();
  assert.ok(Math.abs((a?.value ?? 0) - 1.234) < 2.048 / 32768);
  assert.equal(b?.quantity, 'shunt');
  assert.ok(Math.abs((b?.value ?? 0) - 0.2) < 0.256 / 32768);
  assert.ok(clock.ms - t0 >= 125, 'waited at least one 8 SPS period');
  assert.throws(
    () =>
      new Ads1115({ bus, address: 0x48, deps: { sleep: clock.sleep } }, [
        { channel: 0, fullScale: 3 },
      ]),
    (e) => isHalError(e, 'EDGEFLOW_HAL_BAD_CONFIG'),
  );
});

test('ADS1115: a conversion that never completes is NOT_READY', async () => {
  const clock = new FakeClock();
  const bus = new QueuedI2cBus(1, new SimI2cBus().attach(0x48, new Ads1115Model(clock.now)));
  const adc = new Ads1115({ bus, address: 0x48, deps: { sleep: () => Promise.resolve() } });
  await assert.rejects(adc.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_NOT_READY'));
});

test('INA219: bus voltage, current and power; overflow is an error', async () => {
  const clock = new FakeClock();
  const model = new Ina219Model(clock.now);
  model.busVolts = 12.0;
  model.currentAmps = 1.5;
  const bus = new QueuedI2cBus(1, new SimI2cBus().attach(0x40, model));
  const ina = new Ina219(
    { bus, address: 0x40, deps: { sleep: clock.sleep } },
    { shuntOhms: 0.1, maxCurrentA: 3.2 },
  );
  await ina.init();
  clock.ms += 2;
  const v = Object.fromEntries((await ina.read()).map((x) => [x.quantity, x.value]));
  assert.ok(Math.abs((v.bus_voltage ?? 0) - 12) < 0.005);
  assert.ok(Math.abs((v.current ?? 0) - 1.5) < 0.001);
  assert.ok(Math.abs((v.power ?? 0) - 18) < 0.05);
  model.currentAmps = 5; // 0.5 V across 0.1 ohm exceeds the 320 mV range
  clock.ms += 2;
  await assert.rejects(ina.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_OVERFLOW'));
});
