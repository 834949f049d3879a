/**
 * The boards EdgeFlow installs overlays on, how they are recognised and how their bootloader
 * takes overlays. Paths are relative to the boot root (`--boot-root`, default `/`).
 */
export type LayoutKind = 'rpi-config-txt' | 'armbian-env' | 'jetson-extlinux' | 'none';

/** A supported board. */
export interface BoardInfo {
  readonly id: BoardId;
  readonly title: string;
  /** Overlay sources live in `overlays/<overlayDir>/`. */
  readonly overlayDir: string | undefined;
  readonly layout: LayoutKind;
  /** Boot configuration file, relative to the boot root. */
  readonly configPath: string;
  /** Directory the `.dtbo` files are copied into, relative to the boot root. */
  readonly dtboDir: string;
  /**
   * Overlay root `compatible` strings this board accepts. An overlay whose list has none of them
   * was written for another board (EDGEFLOW_DT_WRONG_BOARD).
   */
  readonly overlayCompatible: readonly string[];
  /** Armbian: basename of the board's DTB, checked against `fdtfile=` in armbianEnv.txt. */
  readonly dtbName?: string;
  /** Why a board without overlays refuses (LattePanda). */
  readonly refusal?: string;
}

export const BOARD_IDS = [
  'rpi5',
  'rock-5b',
  'orangepi-5',
  'jetson-orin-nano',
  'lattepanda',
] as const;
export type BoardId = (typeof BOARD_IDS)[number];

export const BOARDS: Readonly<Record<BoardId, BoardInfo>> = {
  rpi5: {
    id: 'rpi5',
    title: 'Raspberry Pi 5 / Compute Module 5 (Raspberry Pi OS bookworm)',
    overlayDir: 'rpi5',
    layout: 'rpi-config-txt',
    configPath: 'boot/firmware/config.txt',
    dtboDir: 'boot/firmware/overlays',
    overlayCompatible: ['brcm,bcm2712', 'raspberrypi,5-model-b', 'raspberrypi,5-compute-module'],
  },
  'rock-5b': {
    id: 'rock-5b',
    title: 'Radxa ROCK 5B, RK3588 (Armbian)',
    overlayDir: 'rock-5b',
    layout: 'armbian-env',
    configPath: 'boot/armbianEnv.txt',
    dtboDir: 'boot/overlay-user',
    overlayCompatible: ['radxa,rock-5b', 'rockchip,rk3588'],
    dtbName: 'rk3588-rock-5b.dtb',
  },
  'orangepi-5': {
    id: 'orangepi-5',
    title: 'Orange Pi 5, RK3588S (Armbian)',
    overlayDir: 'orangepi-5',
    layout: 'armbian-env',
    configPath: 'boot/armbianEnv.txt',
    dtboDir: 'boot/overlay-user',
    overlayCompatible: ['xunlong,orangepi-5', 'rockchip,rk3588s'],
    dtbName: 'rk3588s-orangepi-5.dtb',
  },
  'jetson-orin-nano': {
    id: 'jetson-orin-nano',
    title: 'NVIDIA Jetson Orin Nano / Orin NX on the P3768 devkit carrier (JetPack 6)',
    overlayDir: 'jetson-orin-nano',
    layout: 'jetson-extlinux',
    configPath: 'boot/extlinux/extlinux.conf',
    dtboDir: 'boot',
    overlayCompatible: [
      'nvidia,p3768-0000+p3767-0000',
      'nvidia,p3768-0000+p3767-0001',
      'nvidia,p3768-0000+p3767-0003',
      'nvidia,p3768-0000+p3767-0004',
      'nvidia,p3768-0000+p3767-0005',
      'nvidia,tegra234',
    ],
  },
  lattepanda: {
    id: 'lattepanda',
    title: 'LattePanda (x86, ACPI)',
    overlayDir: undefined,
    layout: 'none',
    configPath: '',
    dtboDir: '',
    overlayCompatible: [],
    refusal:
      'LattePanda boards are x86 machines that describe their hardware with ACPI; there is no device tree to overlay. ' +
      'Header GPIO on LattePanda Delta/V1 is an ATmega32U4 co-processor reached over USB serial (Firmata), ' +
      "and I2C sensors go on the board's I2C pins through the ACPI-enumerated controller: no installation is needed.",
  },
};

/** Narrow a string to a board id. */
export function isBoardId(value: string): value is BoardId {
  return (BOARD_IDS as readonly string[]).includes(value);
}

/** Installed file name of an overlay: prefixed so it never shadows a vendor overlay. */
export function installedName(overlay: string): string {
  return `edgeflow-${overlay}`;
}
