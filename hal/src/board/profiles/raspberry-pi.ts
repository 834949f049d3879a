import type { BoardProfile, HeaderPin } from '../types.js';

// The 40-pin header: physical pin -> BCM GPIO number. On the Pi 5 the header is
// driven by the RP1 south bridge, whose gpiochip is labelled `pinctrl-rp1` and
// whose line N is BCM GPIO N. Its sysfs base moved (399 on 6.1, 571 on 6.6) and
// its chip number moved (gpiochip4 -> gpiochip0): only the label is stable.
const BCM_BY_PIN: ReadonlyArray<readonly [number, number, string?]> = [
  [3, 2, 'SDA1'],
  [5, 3, 'SCL1'],
  [7, 4, 'GPCLK0'],
  [8, 14, 'TXD0'],
  [10, 15, 'RXD0'],
  [11, 17],
  [12, 18, 'PCM_CLK'],
  [13, 27],
  [15, 22],
  [16, 23],
  [18, 24],
  [19, 10, 'SPI0_MOSI'],
  [21, 9, 'SPI0_MISO'],
  [22, 25],
  [23, 11, 'SPI0_SCLK'],
  [24, 8, 'SPI0_CE0'],
  [26, 7, 'SPI0_CE1'],
  [27, 0, 'ID_SD'],
  [28, 1, 'ID_SC'],
  [29, 5],
  [31, 6],
  [32, 12, 'PWM0'],
  [33, 13, 'PWM1'],
  [35, 19, 'PCM_FS'],
  [36, 16],
  [37, 26],
  [38, 20, 'PCM_DIN'],
  [40, 21, 'PCM_DOUT'],
];

const header: HeaderPin[] = BCM_BY_PIN.map(([pin, bcm, fn]) => ({
  pin,
  name: `GPIO${bcm}`,
  aliases: fn === undefined ? [`BCM${bcm}`] : [`BCM${bcm}`, fn],
  chip: 'pinctrl-rp1',
  line: bcm,
}));

/** Raspberry Pi 5 Model B. */
export const raspberryPi5: BoardProfile = {
  id: 'rpi5',
  name: 'Raspberry Pi 5 Model B (also Compute Module 5 on its IO board, Pi 500)',
  family: 'raspberry-pi',
  // Same BCM2712 + RP1 and the same 40-pin header mapping on all three.
  compatible: ['raspberrypi,5-model-b', 'raspberrypi,5-compute-module', 'raspberrypi,500'],
  header,
  i2c: [
    { name: 'i2c1', pins: [3, 5], bus: 1, enable: 'dtparam=i2c_arm=on in config.txt' },
    {
      name: 'i2c0 (HAT EEPROM)',
      pins: [27, 28],
      bus: 0,
      enable: 'dtparam=i2c_vc=on',
      optional: true,
    },
  ],
  bootLayout: 'rpi-config-txt',
  tpm: {
    kind: 'spi-module',
    device: '/dev/tpmrm0',
    note: 'SPI TPM module on the header (SPI0 CE1, e.g. SLB9670) with dtoverlay=tpm-slb9670',
  },
  hardware: {
    verified: false,
    note: 'never run on a Raspberry Pi 5: header map from the Raspberry Pi pinout (BCM numbering), chip label pinctrl-rp1 and the 6.1/6.6 renumbering from the kernel; the GPIO and I2C backends are tested on gpio-sim and i2c-stub in QEMU',
  },
  notes: [
    'header chip is labelled pinctrl-rp1: line N = BCM GPIO N',
    'sysfs base was 399 on kernel 6.1 and is 571 on 6.6; the chip moved from gpiochip4 to gpiochip0',
  ],
};
