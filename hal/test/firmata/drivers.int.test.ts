// The unchanged sensor drivers over Firmata I2C against real StandardFirmata in simavr: the
// devices are register models attached to the emulated TWI (firmata-board.c), loaded with
// datasheet values; plus analog inputs as the firmware reports them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ads1115 } from '../../src/drivers/ads1115.js';
import { Bme280 } from '../../src/drivers/bme280.js';
import { sensirionCrc8 } from '../../src/drivers/crc8.js';
import { Ina219 } from '../../src/drivers/ina219.js';
import { Sht3x } from '../../src/drivers/sht3x.js';
import { isHalError } from '../../src/errors.js';
import { FirmataAnalogInput } from '../../src/firmata/analog.js';
import { FirmataI2cTransport } from '../../src/firmata/i2c-transport.js';
import { QueuedI2cBus } from '../../src/i2c/queued-bus.js';
import type { I2cBus } from '../../src/i2c/types.js';
import type { BoardAndLink } from './board-fixture.js';
import { emulatorSkipReason, startBoardAndLink, stopBoardAndLink } from './board-fixture.js';

const skip = emulatorSkipReason();
const noSleep = { sleep: (): Promise<void> => Promise.resolve() };

// BMP280/BME280 datasheet section 8.2 worked example (dig_T1..dig_P9 at 0x88..0x9F), dig_H1
// at 0xA1 and typical humidity trims at 0xE1..0xE7: the same image the QEMU tier uses.
const CAL_TP = [
  0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b, 0x8c, 0x00,
  0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b,
];
const CAL_H = [0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e];
const ADC_T = 519888;
const ADC_P = 415148;

describe('sensor drivers and analog inputs over Firmata (simavr ATmega328P)', { skip }, () => {
  let b: BoardAndLink | undefined;
  let bus: I2cBus;
  const board = () => {
    if (!b) throw new Error('board not started');
    return b.board;
  };
  before(async () => {
    b = await startBoardAndLink('standard');
    bus = new QueuedI2cBus(100, new FirmataI2cTransport(b.link));
  });
  after(() => stopBoardAndLink(b));

  test('BME280: the datasheet example reproduces exactly through the co-processor', async () => {
    await board().i2cAttach(0x76, 'reg8');
    await board().i2cSet(0x76, 0xd0, [0x60]);
    await board().i2cSet(0x76, 0x88, CAL_TP);
    await board().i2cSet(0x76, 0xe1, CAL_H);
    const data = [
      ADC_P >> 12,
      (ADC_P >> 4) & 0xff,
      (ADC_P & 0xf) << 4,
      ADC_T >> 12,
      (ADC_T >> 4) & 0xff,
      (ADC_T & 0xf) << 4,
      0x6a,
      0x31,
    ];
    await board().i2cSet(0x76, 0xf7, data);
    const values = Object.fromEntries(
      (await new Bme280({ bus, address: 0x76, deps: noSleep }).read()).map((v) => [
        v.quantity,
        v.value,
      ]),
    );
    assert.equal(values.temperature, 25.08); // T = 2508 / 100, t_fine = 128422 (datasheet 8.2)
    assert.equal(values.pressure, 25767233 / 256);
    // What the driver wrote over Firmata: ctrl_hum osrs_h = 1, ctrl_meas forced mode x1/x1.
    assert.deepEqual(await board().i2cGet(0x76, 0xf2, 1), [0x01]);
    assert.deepEqual(await board().i2cGet(0x76, 0xf4, 1), [0x25]);
  });

  test('BME280: a wrong chip id and an absent part are typed errors', async () => {
    await board().i2cAttach(0x77, 'reg8');
    await board().i2cSet(0x77, 0xd0, [0x58]); // a BMP280
    await assert.rejects(new Bme280({ bus, address: 0x77, deps: noSleep }).init(), (e) =>
      isHalError(e, 'EDGEFLOW_HAL_SENSOR_ID_MISMATCH'),
    );
    await board().i2cDetach(0x77);
    await assert.rejects(new Bme280({ bus, address: 0x77, deps: noSleep }).read(), (e) =>
      isHalError(e, 'EDGEFLOW_HAL_I2C_NO_ACK'),
    );
  });

  test('ADS1115: single-shot config on the wire and a scaled conversion', async () => {
    await board().i2cAttach(0x48, 'reg16');
    await board().i2cSet(0x48, 1, [0x85, 0x83]); // power-on config
    await board().i2cSet(0x48, 0, [0x40, 0x00]); // +16384 codes
    const values = await new Ads1115({ bus, address: 0x48, deps: noSleep }, [
      { channel: 0 },
    ]).read();
    assert.deepEqual(values, [{ quantity: 'ain0', value: 2.048, unit: 'V' }]);
    // OS=1, MUX AIN0/GND, PGA 4.096 V, single shot, 128 SPS, comparator off (datasheet 8.1.3)
    const cfg = 0x8000 | (4 << 12) | (1 << 9) | 0x0100 | (4 << 5) | 0x0003;
    assert.deepEqual(await board().i2cGet(0x48, 1, 2), [cfg >> 8, cfg & 0xff]);
  });

  test('INA219: calibration written, bus/shunt/current/power scaled', async () => {
    await board().i2cAttach(0x40, 'reg16');
    const be = (v: number) => [v >> 8, v & 0xff];
    await board().i2cSet(0x40, 2, be((3000 << 3) | 0x02)); // 12.000 V, CNVR
    await board().i2cSet(0x40, 1, be(1000)); // 10 mV across the shunt
    await board().i2cSet(0x40, 4, be(4096));
    await board().i2cSet(0x40, 3, be(240));
    const v = Object.fromEntries(
      (await new Ina219({ bus, address: 0x40, deps: noSleep }).read()).map((x) => [
        x.quantity,
        x.value,
      ]),
    );
    const lsb = 3.2 / 32768;
    assert.deepEqual(await board().i2cGet(0x40, 0, 2), be(0x399f));
    assert.deepEqual(
      await board().i2cGet(0x40, 5, 2),
      be(Math.trunc(0.04096 / (lsb * 0.1)) & 0xfffe),
    );
    assert.equal(v.bus_voltage, 12);
    assert.equal(v.shunt_voltage, 1000 * 10e-6);
    assert.equal(v.current, 4096 * lsb);
    assert.equal(v.power, 240 * 20 * lsb);
  });

  test('SHT3x: command protocol and CRC through plain transfers; a bad CRC is refused', async () => {
    await board().i2cAttach(0x44, 'sht3x');
    const word = (v: number) => {
      const bytes = Uint8Array.of(v >> 8, v & 0xff);
      return [...bytes, sensirionCrc8(bytes)];
    };
    const st = 0x6666; // T = -45 + 175 * st / 65535 (datasheet 4.13)
    const srh = 0x8000; // RH = 100 * srh / 65535
    await board().i2cSet(0x44, 0, [...word(st), ...word(srh)]);
    const driver = new Sht3x({ bus, address: 0x44, deps: noSleep });
    const v = Object.fromEntries((await driver.read()).map((x) => [x.quantity, x.value]));
    assert.ok(
      Math.abs(Number(v.temperature) - (-45 + (175 * st) / 65535)) < 0.01,
      String(v.temperature),
    );
    assert.ok(Math.abs(Number(v.humidity) - (100 * srh) / 65535) < 0.01, String(v.humidity));
    const bad = word(st);
    bad[2] = (bad[2] ?? 0) ^ 0x5a;
    await board().i2cSet(0x44, 0, [...bad, ...word(srh)]);
    await assert.rejects(driver.read(), (e) => isHalError(e, 'EDGEFLOW_HAL_CRC_MISMATCH'));
  });

  test('analog input: the firmware reports the pin voltage as a 10-bit code', async () => {
    if (!b) throw new Error('board not started');
    await board().analog(0, 2500);
    const a0 = await FirmataAnalogInput.open(b.link, 14); // A0 of an Uno = pin 14
    assert.equal(a0.channel, 0);
    // Reports come every sampling interval (19 ms); the first may predate the voltage.
    let s = await a0.next();
    for (let i = 0; i < 5 && Math.abs(s.raw - 512) > 2; i++) s = await a0.next();
    assert.equal(s.fullScale, 1023);
    assert.ok(Math.abs(s.raw - 512) <= 2, `2.5 V of 5 V read as ${s.raw}`);
    await board().analog(0, 1000);
    for (let i = 0; i < 5 && Math.abs(s.raw - 205) > 2; i++) s = await a0.next();
    assert.ok(Math.abs(s.raw - 205) <= 2, `1.0 V read as ${s.raw}`);
    await a0.close();
    await assert.rejects(FirmataAnalogInput.open(b.link, 5), (e) =>
      isHalError(e, 'EDGEFLOW_HAL_UNSUPPORTED'),
    );
  });
});
