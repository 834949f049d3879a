import type {
  BoardProfile,
  Coprocessor,
  HeaderI2cBus,
  HeaderPin,
  TpmExpectation,
} from '../types.js';

/** Label of the co-processor's "chip" (same as the Firmata backend's FIRMATA_CHIP_LABEL). */
const MCU = 'firmata';

/**
 * The I2C bus number the HAL gives a co-processor's I2C (Firmata I2C messages): above any
 * kernel /dev/i2c-N of these boards, so configs can name it like any bus.
 */
export const FIRMATA_I2C_BUS = 100;

/**
 * The ATmega32U4 header, by Arduino name. Sources: LattePanda documentation (github.com/
 * LattePandaTeam/Docs, content/1st_edition/hardware_introduction.md: "20 digital pins (A0 - A5,
 * D0 - D13)", "TWI: D2 (SDA), D3 (SCL)", analog A6-A11 on D4, D6, D8, D9, D10, D12) and the
 * Arduino Leonardo variant that LattePanda's "LattePanda Leonardo" board package follows
 * (arduino.cc "ATmega32U4-Arduino Pin Mapping"; ArduinoCore-avr variants/leonardo/pins_arduino.h:
 * A0 = digital 18 ... A5 = digital 23). Firmata numbers pins as the Arduino core does, so a
 * header pin's line is its Arduino digital number. The vendor gives the header's physical
 * positions only as pinout images, so `pin` here is that Arduino number too ("13" = D13).
 */
const LEONARDO_HEADER: readonly HeaderPin[] = [
  ...Array.from({ length: 14 }, (_, d): HeaderPin => {
    const extra: Record<number, string[]> = {
      0: ['RX'],
      1: ['TX'],
      2: ['SDA'],
      3: ['SCL'],
      4: ['A6'],
      6: ['A7'],
      8: ['A8'],
      9: ['A9'],
      10: ['A10'],
      12: ['A11'],
      13: ['LED'],
    };
    return { pin: d, name: `D${d}`, aliases: extra[d] ?? [], chip: MCU, line: d };
  }),
  ...Array.from({ length: 6 }, (_, a): HeaderPin => ({
    pin: 18 + a,
    name: `A${a}`,
    aliases: [`D${18 + a}`],
    chip: MCU,
    line: 18 + a,
  })),
];

/** The 32U4's TWI (D2/D3), reached through Firmata's I2C messages. */
const LEONARDO_I2C: HeaderI2cBus = {
  name: 'co-processor I2C (D2 SDA / D3 SCL)',
  pins: [2, 3],
  bus: FIRMATA_I2C_BUS,
  via: 'firmata',
};

/**
 * USB ids of the 32U4. "LattePanda Leonardo" enumerates with DFRobot's vendor id 0x3343
 * (LattePanda's own board package: the vendor's Docs say it differs from a standard Leonardo;
 * 3343:803a is the id seen on 3 Delta boards in third-party hardware inventories, not checked on a
 * board here); a 32U4 flashed with the stock Arduino Leonardo core enumerates as 2341:8036.
 */
const ATMEGA32U4: Coprocessor = {
  mcu: 'atmega32u4',
  usb: [
    { vid: '3343', pid: '803a', name: 'LattePanda Leonardo' },
    { vid: '2341', pid: '8036', name: 'Arduino Leonardo' },
    { vid: '2a03', pid: '8036', name: 'Arduino Leonardo (arduino.org)' },
  ],
  protocol: 'firmata',
  firmware: 'StandardFirmata (preinstalled by the vendor; Arduino IDE: File > Examples > Firmata)',
};

/**
 * The RP2040 of the LattePanda Iota (vendor spec sheet), with Firmata built for the RP2040
 * Arduino core, which enumerates as Raspberry Pi's 2e8a:000a. The header map is not in the
 * vendor's text documentation: pins are addressed as "firmata:<GPn>".
 */
const RP2040: Coprocessor = {
  mcu: 'rp2040',
  usb: [{ vid: '2e8a', pid: '000a', name: 'RP2040 (Arduino core, CDC)' }],
  protocol: 'firmata',
  firmware: 'a Firmata build for the RP2040 Arduino core (not shipped by the vendor)',
};

/**
 * Nothing of the LattePanda support has run on a LattePanda: the Firmata backend is tested
 * against StandardFirmata on an emulated ATmega328P (simavr), the rest comes from documents.
 */
const UNVERIFIED_32U4 = {
  verified: false,
  note:
    'never run on a LattePanda: DMI strings (board vendor "LattePanda", product names) assumed from the model names, ' +
    'USB id 3343:803a from third-party hardware inventories, header map from the vendor documentation and the Arduino Leonardo pin map; ' +
    'the Firmata backend is tested against StandardFirmata on an emulated ATmega328P',
} as const;

const FTPM: TpmExpectation = {
  kind: 'firmware',
  device: '/dev/tpmrm0',
  note: 'firmware TPM (Intel PTT) enabled in the UEFI setup',
};

const NOTES_32U4 = [
  'header GPIO, I2C (bus 100) and analog inputs are on the ATmega32U4 co-processor, reached over USB serial running Firmata',
  'pins are Arduino numbers: D0-D13 are 0-13, A0-A5 are 18-23; the 32U4 has pull-ups only, 5 V I/O',
  'StandardFirmata drives every digital pin low as an output at boot; the HAL sets the modes the config asks for',
  'x86: no device tree, no overlays',
];

function lattePanda32u4(id: string, name: string, product: string | undefined): BoardProfile {
  return {
    id,
    name,
    family: 'x86',
    compatible: [],
    dmi:
      product === undefined
        ? { boardVendor: 'LattePanda' }
        : { boardVendor: 'LattePanda', productName: product },
    header: LEONARDO_HEADER,
    i2c: [LEONARDO_I2C],
    bootLayout: 'none',
    tpm: FTPM,
    coprocessor: ATMEGA32U4,
    notes: NOTES_32U4,
    hardware: UNVERIFIED_32U4,
  };
}

/** LattePanda 3 Delta (Celeron N5105): ATmega32U4-MU co-processor (vendor specification). */
export const lattePanda3Delta = lattePanda32u4(
  'lattepanda-3-delta',
  'LattePanda 3 Delta',
  '3 Delta',
);
/** LattePanda Sigma (Core i5-1340P): ATmega32U4-MU on its 34-pin GPIO header (vendor specification). */
export const lattePandaSigma = lattePanda32u4('lattepanda-sigma', 'LattePanda Sigma', 'Sigma');
/** LattePanda Alpha (Core m3-8100Y): ATmega32U4, Arduino Leonardo compatible. */
export const lattePandaAlpha = lattePanda32u4('lattepanda-alpha', 'LattePanda Alpha', 'Alpha');
/** LattePanda Delta (Celeron N4100): ATmega32U4, Arduino Leonardo compatible. */
export const lattePandaDelta = lattePanda32u4('lattepanda-delta', 'LattePanda Delta', 'Delta');
/** Any other LattePanda with the 32U4 (the original V1 / 1st edition, Atom x5-Z8350). */
export const lattePanda = lattePanda32u4(
  'lattepanda',
  'LattePanda (V1 or model not recognised)',
  undefined,
);

/** LattePanda Iota (Intel N150): RP2040 co-processor. */
export const lattePandaIota: BoardProfile = {
  id: 'lattepanda-iota',
  name: 'LattePanda Iota',
  family: 'x86',
  compatible: [],
  dmi: { boardVendor: 'LattePanda', productName: 'Iota' },
  header: [],
  i2c: [],
  bootLayout: 'none',
  tpm: FTPM,
  coprocessor: RP2040,
  hardware: {
    verified: false,
    note: "never run on a LattePanda Iota: DMI strings assumed from the model name, USB id 2e8a:000a is the RP2040 Arduino core's with a Firmata build the vendor does not ship",
  },
  notes: [
    'header GPIO is on the RP2040 co-processor: with a Firmata firmware on it, pins are "firmata:<GPn>"',
    'the RP2040 header map and its I2C pins are not in the vendor text documentation: no named pins, no default I2C bus',
    'x86: no device tree, no overlays',
  ],
};

/** Every LattePanda profile, most specific DMI match first ("3 Delta" before "Delta"). */
export const lattePandaProfiles: readonly BoardProfile[] = [
  lattePanda3Delta,
  lattePandaSigma,
  lattePandaAlpha,
  lattePandaDelta,
  lattePandaIota,
  lattePanda,
];
