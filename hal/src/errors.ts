import { createErrorClass } from '@edgeflow/core';

/**
 * Every error the HAL raises carries one of these codes. The lead generates
 * docs/errors.md from this catalog: keep each text actionable.
 */
export const errorCatalog = {
  EDGEFLOW_HAL_UNKNOWN_PIN:
    'The pin name or number is not on this board profile. Use a header pin number (e.g. "11"), a pin name from `edgeflow hal detect`, or "<chip label>:<offset>".',
  EDGEFLOW_HAL_CHIP_NOT_FOUND:
    'No GPIO chip with the expected label exists. Check that the kernel driver is loaded and `edgeflow hal detect` lists the chip.',
  EDGEFLOW_HAL_LINE_BUSY:
    'The GPIO line is already requested (by this agent or another process). Release it or pick another pin; `gpioinfo` shows the consumer.',
  EDGEFLOW_HAL_LINE_DIRECTION:
    'The operation does not fit the line direction (e.g. setting an input). Declare the line as an output in the config.',
  EDGEFLOW_HAL_LINE_CLOSED: 'The GPIO line or chip was released. Request it again.',
  EDGEFLOW_HAL_LINE_UNAVAILABLE:
    'The GPIO line is declared in hal.gpio but its request failed; the message gives the cause. "Not available yet": the HAL requests it again with backoff (a co-processor still enumerating on USB, a line another process holds); "not retried": fix the pin in hal.gpio. `GET /v1/gpio` shows each line\'s state.',
  EDGEFLOW_HAL_GPIO_IO:
    'The kernel refused a GPIO operation. The message names the pin and the errno; check permissions on /dev/gpiochip* or /sys/class/gpio.',
  EDGEFLOW_HAL_BACKEND_UNAVAILABLE:
    'The requested GPIO/I2C backend cannot be used here (native addon not built, optional package not installed, or no device nodes). The message says why; choose another backend or install what is missing.',
  EDGEFLOW_HAL_UNSUPPORTED:
    'The backend or adapter does not support this operation (e.g. bias on sysfs GPIO, plain I2C transfers on an SMBus-only adapter).',
  EDGEFLOW_HAL_BUS_NOT_FOUND:
    'The I2C bus does not exist (/dev/i2c-N missing). Enable it (dtparam/overlay) or fix the bus number in the config.',
  EDGEFLOW_HAL_I2C_NO_ACK:
    'No device acknowledged at this I2C address (ENXIO/EREMOTEIO/ENODEV). Check wiring, power and the address.',
  EDGEFLOW_HAL_I2C_BUS_ERROR:
    'The I2C transfer failed on the bus (EIO, timeout, arbitration lost). Check pull-ups, cable length and bus speed.',
  EDGEFLOW_HAL_SENSOR_ID_MISMATCH:
    'The device at this address is not the configured sensor type (chip id mismatch). Fix the type or address in the config.',
  EDGEFLOW_HAL_SENSOR_NOT_READY:
    'The sensor did not finish its measurement in time. It is retried with backoff; persistent failures point to a faulty part.',
  EDGEFLOW_HAL_CRC_MISMATCH:
    'The sensor data failed its CRC check; the reading was discarded. Persistent failures point to bus noise or a faulty part.',
  EDGEFLOW_HAL_SENSOR_OVERFLOW:
    'The sensor reported an arithmetic overflow (e.g. INA219 OVF): the value is out of its configured range. Adjust gain/calibration.',
  EDGEFLOW_HAL_ADDRESS_CONFLICT:
    'Two configured sensors use the same I2C bus and address. Give each sensor its own address or bus.',
  EDGEFLOW_HAL_BAD_CONFIG:
    'The hal section of the config is invalid; the message gives the path of the bad key.',
  EDGEFLOW_HAL_BOARD_UNKNOWN:
    'The requested board profile id does not exist. Run `edgeflow hal detect` to see the detected board and the known ids.',
  EDGEFLOW_HAL_MCU_NOT_FOUND:
    "The board's GPIO co-processor (e.g. the LattePanda's ATmega32U4) was not found on USB by its VID:PID. Check `lsusb`, the co-processor's power/BIOS setting, or set hal.firmata.device to its serial device.",
  EDGEFLOW_HAL_SERIAL_BUSY:
    "The co-processor's serial device is held open by another process (the agent, a serial monitor, ModemManager). Stop it, or use the running agent (HTTP/MQTT GPIO commands) instead of the CLI.",
  EDGEFLOW_HAL_FIRMATA_NO_FIRMWARE:
    "No Firmata firmware answered on the co-processor's serial device (REPORT_VERSION/REPORT_FIRMWARE got no reply). Flash StandardFirmata (Arduino IDE: File > Examples > Firmata) onto the co-processor.",
  EDGEFLOW_HAL_FIRMATA_VERSION:
    'The co-processor runs Firmata, but a version or a capability the HAL needs is missing (protocol version below the minimum, no capability query, no I2C). Flash a current StandardFirmata.',
  EDGEFLOW_HAL_FIRMATA_LINK_DOWN:
    'The serial link to the co-processor is down (USB reset or unplug, or the co-processor reset). The HAL reconnects with backoff and restores every requested line; retry the operation.',
  EDGEFLOW_HAL_FIRMATA_TIMEOUT:
    'The co-processor did not answer a Firmata request in time (a stuck I2C bus blocks StandardFirmata, or the firmware hung). The link is resynchronised; persistent timeouts point to the wiring or the firmware.',
} as const;

/** One of the stable HAL error codes. */
export type HalErrorCode = keyof typeof errorCatalog;

/** Details attached to a HAL error for logs and tests (pin, bus, address, errno). */
export interface HalErrorDetails {
  readonly pin?: string;
  readonly chip?: string;
  readonly bus?: number;
  readonly address?: number;
  readonly errno?: string;
  readonly sensor?: string;
  /** Serial device of a co-processor link (/dev/ttyACM0). */
  readonly device?: string;
  /** The code of the underlying failure (EDGEFLOW_HAL_LINE_UNAVAILABLE: why the line is not there). */
  readonly causeCode?: string;
}

/** Options of every HAL error. */
export interface HalErrorOptions {
  readonly cause?: unknown;
  readonly details?: HalErrorDetails;
}

/**
 * Base error of the HAL (core's factory: branded, so `instanceof` works across two copies of
 * the package, e.g. agent and CLI resolving different paths).
 */
export class HalError extends createErrorClass('HalError', errorCatalog) {
  readonly details: HalErrorDetails;

  constructor(code: HalErrorCode, message: string, options: HalErrorOptions = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.details = options.details ?? {};
  }
}

/** The addressed I2C device did not acknowledge (ENXIO, EREMOTEIO, ENODEV). */
export class I2cNoAckError extends HalError {
  static override readonly brand = 'edgeflow.hal.I2cNoAckError';
  constructor(message: string, options: HalErrorOptions = {}) {
    super('EDGEFLOW_HAL_I2C_NO_ACK', message, options);
  }
}

/** The transfer failed on the bus itself (EIO, ETIMEDOUT, EAGAIN). */
export class I2cBusError extends HalError {
  static override readonly brand = 'edgeflow.hal.I2cBusError';
  constructor(message: string, options: HalErrorOptions = {}) {
    super('EDGEFLOW_HAL_I2C_BUS_ERROR', message, options);
  }
}

/** True when `err` is a HalError with the given code. */
export function isHalError(err: unknown, code?: HalErrorCode): err is HalError {
  return err instanceof HalError && (code === undefined || err.code === code);
}

/** The errno name of a Node/system error ('ENXIO', ...), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('E')) return code;
  return undefined;
}

/** Formats an I2C address the way i2cdetect does (0x76). */
export function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
