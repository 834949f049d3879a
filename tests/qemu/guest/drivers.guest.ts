// BME280, ADS1115 and INA219 drivers against i2c-stub preloaded with register images.
// i2c-stub keeps one 16-bit cell per register: byte and I2C-block access use its low
// byte, word access the whole cell, and the two views never overlap as on a real part.
// So byte-register parts (BME280) are loaded with block writes and 16-bit parts
// (ADS1115, INA219: big-endian registers read as SMBus words) with word writes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  Ads1115,
  Bme280,
  I2cBusRegistry,
  I2cNoAckError,
  Ina219,
  Sht3x,
  i2cBusTransportFactory,
  isHalError,
  swap16,
} from '@edgeflow/hal';
import { STUB, noSleep, stubBus } from './env.js';

interface RawBus {
  writeByte(a: number, r: number, v: number): Promise<void>;
  writeWord(a: number, r: number, v: number): Promise<void>;
  readWord(a: number, r: number): Promise<number>;
  writeI2cBlock(a: number, r: number, n: number, b: Buffer): Promise<unknown>;
  close(): Promise<void>;
}

const busNo = stubBus();
// Register images go in through i2c-bus directly, not through the code under test.
const i2cBusModule = 'i2c-bus'; // untyped optional package: typed by RawBus below
const i2cBus = (await import(i2cBusModule)) as {
  openPromisified(n: number): Promise<RawBus>;
};
const raw = await i2cBus.openPromisified(busNo);
const registry = new I2cBusRegistry(i2cBusTransportFactory());
const bus = await registry.open(busNo);
after(async () => {
  await registry.closeAll();
  await raw.close();
});

/** Big-endian 16-bit register value as the part would present it. */
const setBe16 = (a: number, reg: number, v: number): Promise<void> =>
  raw.writeWord(a, reg, swap16(v));
const getBe16 = async (a: number, reg: number): Promise<number> =>
  swap16(await raw.readWord(a, reg));

// BMP280/BME280 datasheet worked example: dig_T1..T3, dig_P1..P9 (little-endian
// 0x88..0x9F), 0xA0 reserved, dig_H1 at 0xA1; dig_H2..H6 at 0xE1..0xE7 (typical trims).
const CAL_TP = [
  0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b, 0x8c, 0x00,
  0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b,
];
// H2 = 362, H3 = 0, H4 = 313 (0xE4 << 4 | 0xE5 & 0xF), H5 = 50 (0xE6 << 4 | 0xE5 >> 4), H6 = 30
const CAL_H = [0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e];
const ADC_T = 519888; // datasheet example
const ADC_P = 415148; // datasheet example
const ADC_H = 27185;

/** Datasheet BME280_compensate_H_int32, written out independently (BigInt as int32). */
function referenceHumidityQ10(adcH: number, tFine: number): number {
  const i32 = (v: bigint): bigint => BigInt.asIntN(32, v);
  const [h1, h2, h3, h4, h5, h6] = [75n, 362n, 0n, 313n, 50n, 30n];
  let v = i32(BigInt(tFine) - 76800n);
  // ((adc_H << 14) - (H4 << 20) - (H5 * v) + 16384) >> 15
  const x = i32((i32(BigInt(adcH) << 14n) - (h4 << 20n) - i32(h5 * v) + 16384n) >> 15n);
  // (((v * H6) >> 10) * (((v * H3) >> 11) + 32768)) >> 10
  const y0 = i32((i32(v * h6) >> 10n) * (i32(i32(v * h3) >> 11n) + 32768n)) >> 10n;
  // ((y0 + 2097152) * H2 + 8192) >> 14
  const y = i32(i32(i32(y0 + 2097152n) * h2) + 8192n) >> 14n;
  v = i32(x * y);
  // v - (((((v >> 15) * (v >> 15)) >> 7) * H1) >> 4)
  v = i32(v - ((i32(i32((v >> 15n) * (v >> 15n)) >> 7n) * h1) >> 4n));
  v = v < 0n ? 0n : v > 419430400n ? 419430400n : v;
  return Number(v >> 12n);
}

async function loadBme280(status = 0x00): Promise<void> {
  const a = STUB.bme280;
  await raw.writeByte(a, 0xd0, 0x60); // chip id
  await raw.writeI2cBlock(a, 0x88, CAL_TP.length, Buffer.from(CAL_TP));
  await raw.writeI2cBlock(a, 0xe1, CAL_H.length, Buffer.from(CAL_H));
  await raw.writeByte(a, 0xf3, status);
  const data = [
    ADC_P >> 12,
    (ADC_P >> 4) & 0xff,
    (ADC_P & 0xf) << 4,
    ADC_T >> 12,
    (ADC_T >> 4) & 0xff,
    (ADC_T & 0xf) << 4,
    ADC_H >> 8,
    ADC_H & 0xff,
  ];
  await raw.writeI2cBlock(a, 0xf7, data.length, Buffer.from(data));
}

test('BME280 on i2c-stub: datasheet example reproduces exactly', async () => {
  await loadBme280();
  const driver = new Bme280({ bus, address: STUB.bme280, deps: noSleep });
  const values = Object.fromEntries((await driver.read()).map((v) => [v.quantity, v.value]));
  assert.equal(values.temperature, 25.08); // T = 2508 / 100, t_fine = 128422
  // Published 64-bit formula: 25767233 / 256 Pa (the datasheet prints 100653.27 Pa).
  assert.equal(values.pressure, 25767233 / 256);
  assert.equal(values.humidity, referenceHumidityQ10(ADC_H, 128422) / 1024);
  // What the driver wrote over the wire: ctrl_hum osrs_h = 1, ctrl_meas forced, x1/x1.
  assert.equal(await bus.readByte(STUB.bme280, 0xf2), 0x01);
  assert.equal(await bus.readByte(STUB.bme280, 0xf4), 0x25);
});

test('BME280 on i2c-stub: a stuck "measuring" bit is EDGEFLOW_HAL_SENSOR_NOT_READY', async () => {
  await loadBme280(0x08);
  const driver = new Bme280({ bus, address: STUB.bme280, deps: noSleep });
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_NOT_READY'));
  await raw.writeByte(STUB.bme280, 0xf3, 0);
});

test('BME280 on i2c-stub: a wrong chip id and an absent part are typed errors', async () => {
  await raw.writeByte(STUB.scratch, 0xd0, 0x58); // a BMP280's id
  const wrong = new Bme280({ bus, address: STUB.scratch, deps: noSleep });
  await assert.rejects(wrong.init(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_ID_MISMATCH'));
  const absent = new Bme280({ bus, address: 0x77, deps: noSleep });
  await assert.rejects(absent.read(), I2cNoAckError);
});

test('ADS1115 on i2c-stub: single-shot config on the wire and scaled conversions', async () => {
  const a = STUB.ads1115;
  await setBe16(a, 1, 0x8583); // power-on default config
  await setBe16(a, 0, 0x4000); // +16384 codes
  const ain0 = new Ads1115({ bus, address: a, deps: noSleep }, [{ channel: 0 }]);
  assert.deepEqual(await ain0.read(), [{ quantity: 'ain0', value: 2.048, unit: 'V' }]);
  // OS=1, MUX=AIN0/GND (4), PGA 4.096 (1), single-shot, 128 SPS (4), comparator off
  assert.equal(await getBe16(a, 1), 0x8000 | (4 << 12) | (1 << 9) | 0x0100 | (4 << 5) | 0x0003);

  await setBe16(a, 0, 0x8000); // most negative code
  const ain3 = new Ads1115({ bus, address: a, deps: noSleep }, [
    { channel: 3, fullScale: 0.256, dataRate: 860, name: 'shunt' },
  ]);
  assert.deepEqual(await ain3.read(), [{ quantity: 'shunt', value: -0.256, unit: 'V' }]);
  assert.equal(await getBe16(a, 1), 0x8000 | (7 << 12) | (5 << 9) | 0x0100 | (7 << 5) | 0x0003);
});

test('INA219 on i2c-stub: calibration written, bus/shunt/current/power scaled', async () => {
  const a = STUB.ina219;
  await setBe16(a, 5, 0); // uncalibrated, as after power-on
  await setBe16(a, 2, (3000 << 3) | 0x02); // 12.000 V, CNVR set
  await setBe16(a, 1, 1000); // 10 mV across the shunt
  await setBe16(a, 4, 4096); // current register
  await setBe16(a, 3, 240); // power register
  const driver = new Ina219({ bus, address: a, deps: noSleep });
  const v = Object.fromEntries((await driver.read()).map((x) => [x.quantity, x.value]));
  const lsb = 3.2 / 32768; // default maxCurrentA 3.2 A, 0.1 ohm shunt
  assert.equal(await getBe16(a, 0), 0x399f);
  assert.equal(await getBe16(a, 5), Math.trunc(0.04096 / (lsb * 0.1)) & 0xfffe);
  assert.equal(v.bus_voltage, 3000 * 0.004);
  assert.equal(v.shunt_voltage, 1000 * 10e-6);
  assert.equal(v.current, 4096 * lsb);
  assert.equal(v.power, 240 * 20 * lsb);
});

test('INA219 on i2c-stub: OVF is an error, a missing CNVR is not-ready', async () => {
  const a = STUB.ina219;
  const driver = new Ina219({ bus, address: a, deps: noSleep });
  await setBe16(a, 2, (3000 << 3) | 0x03);
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_OVERFLOW'));
  await setBe16(a, 2, 3000 << 3);
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_SENSOR_NOT_READY'));
});

test('SHT3x on i2c-stub: plain transfers refused, so the driver says unsupported', async () => {
  const driver = new Sht3x({ bus, address: STUB.sht3x, deps: noSleep });
  await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'));
});

test('SHT3x measurement and CRC against a kernel driver', (t) => {
  t.skip(
    'i2c-stub is SMBus-only: the SHT3x command protocol (plain write, then plain read) gets ' +
      'EOPNOTSUPP; covered by the unit tier against the SHT3x register model',
  );
});
