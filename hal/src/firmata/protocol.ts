/**
 * Firmata protocol messages the HAL sends, as bytes. Section names refer to the Firmata
 * protocol specification (github.com/firmata/protocol: protocol.md "Message Types" and
 * "Sysex Message Format", i2c.md, pin-state-query.md, capability-query.md).
 * Every multi-byte value travels as 7-bit bytes, least significant first.
 */

/** MIDI-style commands (protocol.md, "Message Types"). */
export const DIGITAL_MESSAGE = 0x90; // | port: 8 pins of one port, 2 data bytes
export const ANALOG_MESSAGE = 0xe0; // | channel: 14-bit value, 2 data bytes
export const REPORT_ANALOG = 0xc0; // | channel: enable/disable reporting
export const REPORT_DIGITAL = 0xd0; // | port: enable/disable reporting
export const SET_PIN_MODE = 0xf4;
export const REPORT_VERSION = 0xf9;
export const SYSTEM_RESET = 0xff;
export const START_SYSEX = 0xf0;
export const END_SYSEX = 0xf7;

/** Sysex commands (protocol.md, "Sysex Message Format" table). */
export const ANALOG_MAPPING_QUERY = 0x69;
export const ANALOG_MAPPING_RESPONSE = 0x6a;
export const CAPABILITY_QUERY = 0x6b;
export const CAPABILITY_RESPONSE = 0x6c;
export const PIN_STATE_QUERY = 0x6d;
export const PIN_STATE_RESPONSE = 0x6e;
export const STRING_DATA = 0x71;
export const I2C_REQUEST = 0x76;
export const I2C_REPLY = 0x77;
export const I2C_CONFIG = 0x78;
export const REPORT_FIRMWARE = 0x79;
export const SAMPLING_INTERVAL = 0x7a;

/** Pin modes (protocol.md, "Pin Modes"). PULLUP exists from protocol 2.5 on. */
export const PinMode = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  SERVO: 0x04,
  I2C: 0x06,
  PULLUP: 0x0b,
} as const;

/** Value of a pin mode, as in the capability response. */
export type PinModeValue = number;

/** Marks "no analog channel" in ANALOG_MAPPING_RESPONSE and ends a pin in CAPABILITY_RESPONSE. */
export const NONE_7BIT = 0x7f;

function lsb(v: number): number {
  return v & 0x7f;
}
function msb(v: number): number {
  return (v >> 7) & 0x7f;
}

function sysex(command: number, ...data: number[]): Uint8Array {
  return Uint8Array.of(START_SYSEX, command, ...data, END_SYSEX);
}

/** REPORT_VERSION query: the board answers with its protocol version. */
export function reportVersion(): Uint8Array {
  return Uint8Array.of(REPORT_VERSION);
}

/** REPORT_FIRMWARE query: the board answers with the sketch's name and version. */
export function queryFirmware(): Uint8Array {
  return sysex(REPORT_FIRMWARE);
}

/** CAPABILITY_QUERY: every pin with the modes it supports and their resolutions. */
export function capabilityQuery(): Uint8Array {
  return sysex(CAPABILITY_QUERY);
}

/** ANALOG_MAPPING_QUERY: which pins carry which analog channel. */
export function analogMappingQuery(): Uint8Array {
  return sysex(ANALOG_MAPPING_QUERY);
}

/** SET_PIN_MODE pin mode. */
export function setPinMode(pin: number, mode: PinModeValue): Uint8Array {
  return Uint8Array.of(SET_PIN_MODE, lsb(pin), lsb(mode));
}

/**
 * DIGITAL_MESSAGE for one port (8 pins). StandardFirmata writes the bits of OUTPUT pins and,
 * for INPUT pins, takes a 1 as "enable the pull-up" (protocol.md, "Digital I/O Message";
 * the only pull-up control before protocol 2.5's PULLUP mode, and still honoured after it).
 */
export function digitalPortWrite(port: number, value: number): Uint8Array {
  return Uint8Array.of(DIGITAL_MESSAGE | (port & 0x0f), lsb(value), (value >> 7) & 0x01);
}

/** REPORT_DIGITAL: from protocol 2.4 the board answers "on" with the port's value at once. */
export function reportDigital(port: number, on: boolean): Uint8Array {
  return Uint8Array.of(REPORT_DIGITAL | (port & 0x0f), on ? 1 : 0);
}

/** REPORT_ANALOG for one analog channel (reported every sampling interval). */
export function reportAnalog(channel: number, on: boolean): Uint8Array {
  return Uint8Array.of(REPORT_ANALOG | (channel & 0x0f), on ? 1 : 0);
}

/** PIN_STATE_QUERY: mode and state of one pin (pin-state-query.md). */
export function pinStateQuery(pin: number): Uint8Array {
  return sysex(PIN_STATE_QUERY, lsb(pin));
}

/** SAMPLING_INTERVAL in ms (analog reporting and continuous I2C reads). */
export function samplingInterval(ms: number): Uint8Array {
  return sysex(SAMPLING_INTERVAL, lsb(ms), msb(ms));
}

/** I2C_CONFIG: enables the I2C pins; `delayUs` between a register write and its read. */
export function i2cConfig(delayUs = 0): Uint8Array {
  return sysex(I2C_CONFIG, lsb(delayUs), msb(delayUs));
}

/** I2C_REQUEST write (i2c.md): address, mode bits 00, then each byte as two 7-bit bytes. */
export function i2cWrite(address: number, data: Uint8Array): Uint8Array {
  const body: number[] = [lsb(address), 0x00];
  for (const b of data) body.push(lsb(b), msb(b));
  return sysex(I2C_REQUEST, ...body);
}

/**
 * I2C_REQUEST "read once" (mode bits 01): with a register, the board first writes the register
 * pointer then reads `length` bytes (stop between them: the default of i2c.md); without one it
 * reads `length` bytes straight away.
 */
export function i2cReadOnce(
  address: number,
  register: number | undefined,
  length: number,
): Uint8Array {
  const body: number[] = [lsb(address), 0x01 << 3];
  if (register !== undefined) body.push(lsb(register), msb(register));
  body.push(lsb(length), msb(length));
  return sysex(I2C_REQUEST, ...body);
}

/**
 * Largest I2C write StandardFirmata accepts: its sysex buffer holds 64 data bytes (2 for the
 * address/mode, 2 per payload byte), and the AVR Wire library buffers 32.
 */
export const I2C_MAX_WRITE = 30;
/** Largest I2C read: the Wire library's 32-byte buffer. */
export const I2C_MAX_READ = 32;
