/**
 * @edgeflow/hal: board detection and profiles, GPIO (cdev, sysfs, sim), I2C,
 * sensor drivers, the register-level simulator, the poller the agent runs, and
 * the `edgeflow hal` CLI.
 */
export { errorCatalog, HalError, I2cNoAckError, I2cBusError, isHalError } from './errors.js';
export type { HalErrorCode, HalErrorDetails } from './errors.js';

export type {
  BoardProfile,
  BootLayout,
  GpioBackendName,
  HeaderPin,
  HeaderI2cBus,
  HeaderJumper,
  TpmExpectation,
  Coprocessor,
  UsbId,
} from './board/types.js';
export {
  boardProfiles,
  profileById,
  simBoard,
  genericLinux,
  SIM_CHIP_LABEL,
  FIRMATA_I2C_BUS,
  lattePandaProfiles,
} from './board/profiles/index.js';
export { detectBoard, simDetected } from './board/detect.js';
export { busNotFound, deviceGaps, type DeviceGaps } from './board/gaps.js';
export {
  identifyBoard,
  boardEntryMatches,
  matchProfile,
  BOARD_PROFILE_IDS,
  type BoardIdentity,
} from './board/identify.js';
export type {
  DetectedBoard,
  DetectOptions,
  DetectDeps,
  I2cAdapterInfo,
  ResolvedHeaderPin,
} from './board/detect.js';
export type { ChipInfo } from './board/chips.js';
export type { DetectedCoprocessor } from './board/coprocessor.js';
export { scanUsbSerial, findUsbSerial } from './board/usb-serial.js';
export type { UsbSerialDevice } from './board/usb-serial.js';
export { resolvePin } from './board/pins.js';
export type { LineRef } from './board/pins.js';
export type { HostFs } from './board/host-fs.js';

export type {
  Bias,
  EdgeEvent,
  EdgeSetting,
  GpioCapabilities,
  GpioChip,
  GpioLine,
  LineConfig,
  LineValue,
} from './gpio/types.js';
export { SimGpioChipModel } from './gpio/sim-model.js';
export type { SimChipOptions, SimWire } from './gpio/sim-model.js';
export { SimGpioChip } from './gpio/sim-chip.js';
export { CdevGpioChip } from './gpio/cdev-chip.js';
export { SysfsGpioChip } from './gpio/sysfs-chip.js';
export type { OnoffGpioCtor } from './gpio/sysfs-chip.js';
export { loadCdevBinding } from './gpio/cdev-binding.js';
export type { CdevBinding, BindingLoad } from './gpio/cdev-binding.js';
export { openGpioChip, loadOnoff } from './gpio/open-chip.js';
export type { GpioOpenDeps } from './gpio/open-chip.js';

export type { I2cBus, I2cTransport } from './i2c/types.js';
export { swap16 } from './i2c/types.js';
export { QueuedI2cBus, mapI2cError } from './i2c/queued-bus.js';
export { I2cBusRegistry, i2cBusTransportFactory } from './i2c/registry.js';

export type { SensorDriver, SensorValue, DriverDeps } from './drivers/types.js';
export { Bme280 } from './drivers/bme280.js';
export { Sht3x } from './drivers/sht3x.js';
export { Ads1115, ADS1115_GAINS, ADS1115_RATES } from './drivers/ads1115.js';
export { Ina219 } from './drivers/ina219.js';
export { sensirionCrc8 } from './drivers/crc8.js';

export { SimI2cBus } from './sim/i2c-bus.js';
export type { SimI2cDevice } from './sim/i2c-bus.js';
export { Bme280Model } from './sim/bme280-model.js';
export { Sht3xModel } from './sim/sht3x-model.js';
export { Ads1115Model } from './sim/ads1115-model.js';
export { Ina219Model } from './sim/ina219-model.js';
export { createSimCdevBinding, createSimOnoff } from './sim/gpio-bindings.js';
export { SimWorld, simProfileWires } from './sim/sim-world.js';
export type { SimWorldOptions } from './sim/sim-world.js';

export { Hal } from './poller/hal.js';
export { createHal, parseHalConfig } from './poller/create-hal.js';
export type { Reading, GpioEdge, HalProblem, HalEvents, HalDeps } from './poller/hal.js';
export type { GpioLineState, GpioLineStatus } from './poller/gpio-lines.js';
export {
  halConfigSchema,
  sensorConfigSchema,
  gpioConfigSchema,
  analogConfigSchema,
  firmataConfigSchema,
  DEMO_SENSORS,
} from './poller/config.js';
export type {
  HalConfig,
  HalConfigInput,
  SensorConfig,
  GpioConfig,
  AnalogConfig,
  FirmataConfig,
} from './poller/config.js';
export {
  FirmataLink,
  FirmataLinkRegistry,
  FirmataGpioChip,
  FirmataI2cTransport,
  FirmataAnalogInput,
  FirmataParser,
  FIRMATA_CHIP_LABEL,
  loadSerialOpener,
} from './firmata/index.js';
export type {
  AnalogOptions,
  AnalogReport,
  AnalogSample,
  FirmataLinkEvents,
  FirmataLinkOptions,
  FirmataMessage,
  FirmwareInfo,
  LinkState,
  PinCapability,
  PortReport,
  SerialLink,
  SerialOpener,
} from './firmata/index.js';
export { Backoff } from './poller/backoff.js';
export type { BackoffOptions } from './poller/backoff.js';
export { runCli } from './cli/cli.js';
export type { CliIo, CliDeps } from './cli/cli.js';
