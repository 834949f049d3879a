/**
 * The Firmata backend: GPIO, I2C and analog inputs on a co-processor (the LattePanda's
 * ATmega32U4) that runs Firmata behind a USB serial link. `FirmataLink` owns the link (one
 * per device, one request queue, reconnects); the chip, the I2C transport and the analog
 * inputs are views on it.
 */
export { FirmataLink } from './link.js';
export type {
  AnalogReport,
  FirmataLinkEvents,
  FirmataLinkOptions,
  LinkState,
  PortReport,
} from './link.js';
export type { FirmwareInfo } from './handshake.js';
export { FIRMATA_CHIP_LABEL, FirmataGpioChip } from './gpio-chip.js';
export { FirmataI2cTransport } from './i2c-transport.js';
export { FirmataAnalogInput } from './analog.js';
export type { AnalogOptions, AnalogSample } from './analog.js';
export { FirmataParser } from './parser.js';
export type { FirmataMessage, PinCapability } from './parser.js';
export { loadSerialOpener } from './serial.js';
export type { SerialLink, SerialOpener } from './serial.js';
export { FirmataLinkRegistry } from './registry.js';
