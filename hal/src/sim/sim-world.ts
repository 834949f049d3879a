import { simDetected } from '../board/detect.js';
import { busNotFound } from '../board/gaps.js';
import { resolvePin } from '../board/pins.js';
import type { I2cTransport } from '../i2c/types.js';
import { SIM_CHIP_LABEL, simBoard } from '../board/profiles/index.js';
import type { SimWire } from '../gpio/sim-model.js';
import { SimGpioChipModel } from '../gpio/sim-model.js';
import { Ads1115Model } from './ads1115-model.js';
import { Bme280Model } from './bme280-model.js';
import { SimI2cBus } from './i2c-bus.js';
import { Ina219Model } from './ina219-model.js';
import { Sht3xModel } from './sht3x-model.js';

/** Options of the simulator board. */
export interface SimWorldOptions {
  /**
   * Line offsets of "edgeflow-sim" joined by jumper wires; default: the `jumpers` of the sim
   * board profile (pins 38 -> 40). `[]` is a board without a jumper.
   */
  readonly wires?: readonly SimWire[];
}

/** The sim profile's jumpers as line offsets of its chip. */
export function simProfileWires(): SimWire[] {
  return (simBoard.jumpers ?? []).map(
    (j) => [resolvePin(simBoard, j.out).line, resolvePin(simBoard, j.in).line] as const,
  );
}

/**
 * The simulator board: GPIO chip "edgeflow-sim" and I2C bus 1 carrying a
 * BME280 (0x76), SHT31 (0x44), ADS1115 (0x48) and INA219 (0x40) whose physical
 * values drift slowly and deterministically with time, so a dashboard shows
 * live, plausible numbers. Header pins 38 and 40 are wired together (see SimWorldOptions).
 */
export class SimWorld {
  readonly gpio: SimGpioChipModel;
  readonly i2c: SimI2cBus;
  readonly bme280: Bme280Model;
  readonly sht3x: Sht3xModel;
  readonly ads1115: Ads1115Model;
  readonly ina219: Ina219Model;
  /** The I2C bus numbers of the simulator board (the sim profile's header bus). */
  readonly i2cBuses: readonly number[] = simDetected().i2c.map((a) => a.bus);
  readonly #now: () => number;

  constructor(
    now: () => number = () => performance.now(),
    hrtime?: () => bigint,
    options: SimWorldOptions = {},
  ) {
    this.#now = now;
    this.gpio = new SimGpioChipModel(SIM_CHIP_LABEL, 54, hrtime, {
      wires: options.wires ?? simProfileWires(),
    });
    this.i2c = new SimI2cBus();
    this.bme280 = new Bme280Model(now);
    this.sht3x = new Sht3xModel(now);
    this.ads1115 = new Ads1115Model(now);
    this.ina219 = new Ina219Model(now);
    this.i2c.attach(0x76, this.bme280).attach(0x44, this.sht3x);
    this.i2c.attach(0x48, this.ads1115).attach(0x40, this.ina219);
    this.update(0);
  }

  /**
   * The transport of an I2C bus of the simulator; any other bus number is
   * EDGEFLOW_HAL_BUS_NOT_FOUND, as on a board where /dev/i2c-N is missing.
   */
  i2cTransport(bus: number): Promise<I2cTransport> {
    if (!this.i2cBuses.includes(bus)) return Promise.reject(busNotFound(simDetected(), bus));
    return Promise.resolve(this.i2c);
  }

  /** Sets every physical quantity for wall-clock time `ms` (a slow daily-like cycle). */
  update(ms: number = this.#now()): void {
    const phase = (ms / 600_000) * 2 * Math.PI; // 10-minute cycle
    const s = Math.sin(phase);
    const c = Math.cos(phase);
    this.bme280.temperatureC = 22 + 3 * s;
    this.bme280.pressurePa = 101325 + 150 * c;
    this.bme280.humidityPct = 45 - 8 * s;
    this.sht3x.temperatureC = 21.5 + 2.5 * s;
    this.sht3x.humidityPct = 48 - 6 * s;
    this.ads1115.inputs[0] = 1.65 + 0.5 * s;
    this.ads1115.inputs[1] = 3.3;
    this.ina219.busVolts = 5.05 - 0.05 * c;
    this.ina219.currentAmps = 0.3 + 0.1 * s;
  }
}
