import { Ads1115 } from '../drivers/ads1115.js';
import { Bme280 } from '../drivers/bme280.js';
import { Ina219 } from '../drivers/ina219.js';
import { Sht3x } from '../drivers/sht3x.js';
import type { DriverDeps, SensorDriver } from '../drivers/types.js';
import type { I2cBus } from '../i2c/types.js';
import type { SensorConfig } from './config.js';

/** Builds the driver a sensor config names. */
export function createDriver(cfg: SensorConfig, bus: I2cBus, deps: DriverDeps): SensorDriver {
  const ctx = { bus, address: cfg.address, deps };
  switch (cfg.type) {
    case 'bme280':
      return new Bme280(ctx);
    case 'sht3x':
      return new Sht3x(ctx);
    case 'ads1115':
      return new Ads1115(
        ctx,
        cfg.channels.map((c) => ({
          channel: c.channel,
          fullScale: c.fullScale,
          dataRate: c.dataRate,
          ...(c.name === undefined ? {} : { name: c.name }),
        })),
      );
    case 'ina219':
      return new Ina219(ctx, { shuntOhms: cfg.shuntOhms, maxCurrentA: cfg.maxCurrentA });
  }
}
