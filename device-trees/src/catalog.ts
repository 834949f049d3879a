/** The overlays EdgeFlow ships, identical names on every board that has them. */
export interface OverlayInfo {
  readonly name: string;
  readonly summary: string;
}

export const OVERLAYS: readonly OverlayInfo[] = [
  {
    name: 'i2c-header',
    summary: 'header I2C bus enabled, no device described (user-space drivers)',
  },
  { name: 'bme280', summary: 'Bosch BME280 at 0x76 on the header I2C bus (kernel bmp280, IIO)' },
  { name: 'sht3x', summary: 'Sensirion SHT3x at 0x44 on the header I2C bus (kernel sht3x, hwmon)' },
  { name: 'sht4x', summary: 'Sensirion SHT4x at 0x44 on the header I2C bus (kernel sht4x, hwmon)' },
  {
    name: 'ads1115',
    summary: 'TI ADS1115 ADC at 0x48 on the header I2C bus (kernel ti-ads1015, IIO)',
  },
  {
    name: 'ina219',
    summary: 'TI INA219 power monitor at 0x40, 0.1 ohm shunt (kernel ina2xx, hwmon)',
  },
  {
    name: 'tpm-slb9670',
    summary: 'Infineon SLB9670 TPM 2.0 on the header SPI bus, CS1 (tpm_tis_spi)',
  },
  { name: 'gpio-names', summary: 'GPIO line names PIN<n> for the header pins (gpiofind PIN7)' },
];

/** Overlay lookup by name. */
export function findOverlay(name: string): OverlayInfo | undefined {
  return OVERLAYS.find((o) => o.name === name);
}
