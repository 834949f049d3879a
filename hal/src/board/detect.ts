import { HalError } from '../errors.js';
import type { CdevChipInfo, ChipInfo, ScanNote } from './chips.js';
import { findChip, scanChips } from './chips.js';
import type { DetectedCoprocessor } from './coprocessor.js';
import { detectCoprocessor } from './coprocessor.js';
import type { HostFs } from './host-fs.js';
import { hostPath, listDir, nodeHostFs, readText } from './host-fs.js';
import { identifyBoard } from './identify.js';
import { boardProfiles, profileById, simBoard } from './profiles/index.js';
import type { BoardProfile, GpioBackendName } from './types.js';

/** An I2C adapter present on the host. */
export interface I2cAdapterInfo {
  readonly bus: number;
  readonly devPath: string;
  readonly name?: string;
}

/** A header pin resolved against the chips that actually exist. */
export interface ResolvedHeaderPin {
  readonly pin: number;
  readonly name: string;
  readonly chip: string;
  readonly line: number;
  readonly present: boolean;
  /** Sysfs GPIO number (chip base + line), when sysfs exposes the chip. */
  readonly sysfsNumber?: number;
}

/** Everything `detectBoard` found: the profile plus the live state of the host. */
export interface DetectedBoard {
  readonly profile: BoardProfile;
  readonly matchedBy: 'compatible' | 'dmi' | 'forced' | 'none';
  readonly model?: string;
  readonly compatible: readonly string[];
  readonly dmi: Readonly<Record<string, string>>;
  readonly chips: readonly ChipInfo[];
  readonly i2c: readonly I2cAdapterInfo[];
  readonly header: readonly ResolvedHeaderPin[];
  /** The GPIO backend that fits this host ('none' when no GPIO interface exists). */
  readonly gpioBackend: GpioBackendName | 'none';
  /** What is missing and why, one line each; empty when everything expected is there. */
  readonly missing: readonly ScanNote[];
  /** The GPIO co-processor on USB, for boards that have one (LattePanda). */
  readonly coprocessor?: DetectedCoprocessor;
  /**
   * True when the root does not exist (a wrong hal.root or --root): nothing could be read, the
   * profile is a guess (generic, or the one forced), and `missing` says so first.
   */
  readonly rootMissing?: true;
}

/** Inputs of `detectBoard`. */
export interface DetectOptions {
  /** Host root ('/' in production). */
  readonly root?: string;
  /** 'auto' detects; 'sim' or a profile id forces that profile. */
  readonly board?: string;
  /** The co-processor's serial device, when set by hand (hal.firmata.device). */
  readonly coprocessorDevice?: string;
}

/** World access for detection. */
export interface DetectDeps {
  readonly fs?: HostFs;
  readonly cdevInfo?: CdevChipInfo | undefined;
  /** Why the cdev addon is unavailable, reported when char devices exist. */
  readonly cdevUnavailableReason?: string | undefined;
  /** Profiles tried before the built-in ones (tests describe emulated boards this way). */
  readonly profiles?: readonly BoardProfile[];
}

/** Chip label of co-processor pins (the Firmata backend's FIRMATA_CHIP_LABEL). */
const FIRMATA_CHIP = 'firmata';

async function scanI2c(fs: HostFs, root: string): Promise<I2cAdapterInfo[]> {
  const out: I2cAdapterInfo[] = [];
  for (const e of await listDir(fs, hostPath(root, 'dev'))) {
    const m = /^i2c-(\d+)$/.exec(e);
    if (!m) continue;
    const bus = Number(m[1]);
    const name = await readText(fs, hostPath(root, `sys/class/i2c-adapter/i2c-${bus}/name`));
    out.push({
      bus,
      devPath: hostPath(root, `dev/${e}`),
      ...(name === undefined ? {} : { name }),
    });
  }
  return out.sort((a, b) => a.bus - b.bus);
}

/** The profile asked for: detected, or forced by id (an unknown id is an error). */
function chooseProfile(
  requested: string,
  id: { profile: BoardProfile; matchedBy: DetectedBoard['matchedBy'] },
  extra: readonly BoardProfile[] | undefined,
): { profile: BoardProfile; matchedBy: DetectedBoard['matchedBy'] } {
  if (requested === 'auto') return { profile: id.profile, matchedBy: id.matchedBy };
  const forced = profileById(requested, extra);
  if (!forced) {
    throw new HalError(
      'EDGEFLOW_HAL_BOARD_UNKNOWN',
      `board profile "${requested}" does not exist; known: ${boardProfiles.map((p) => p.id).join(', ')}`,
    );
  }
  return { profile: forced, matchedBy: 'forced' };
}

/** Header pins against what exists: a kernel chip by label, or the co-processor on USB. */
function resolveHeader(
  profile: BoardProfile,
  chips: readonly ChipInfo[],
  coprocessorFound: boolean,
): ResolvedHeaderPin[] {
  return profile.header.map((h) => {
    const chip = findChip(chips, h.chip);
    const present =
      h.chip === FIRMATA_CHIP
        ? coprocessorFound
        : chip !== undefined && h.line < (chip.lines || Number.MAX_SAFE_INTEGER);
    return {
      pin: h.pin,
      name: h.name,
      chip: h.chip,
      line: h.line,
      present,
      ...(chip?.sysfsBase === undefined ? {} : { sysfsNumber: chip.sysfsBase + h.line }),
    };
  });
}

/** What the profile expects and the host lacks: header chips, I2C buses, the TPM. */
async function expectedButMissing(
  profile: BoardProfile,
  chips: readonly ChipInfo[],
  i2c: readonly I2cAdapterInfo[],
  fs: HostFs,
  root: string,
): Promise<ScanNote[]> {
  const missing: ScanNote[] = [];
  for (const label of new Set(profile.header.map((h) => h.chip))) {
    // Co-processor pins have no kernel chip; a missing co-processor is noted by detection.
    if (label !== FIRMATA_CHIP && !findChip(chips, label)) {
      missing.push({
        what: `gpio chip "${label}"`,
        why: 'not found among the chips: header pins on it are unavailable',
      });
    }
  }
  for (const b of profile.i2c) {
    if (b.via === 'firmata' || i2c.some((a) => a.bus === b.bus)) continue;
    missing.push({
      what: `${b.name} (/dev/i2c-${b.bus}, pins ${b.pins[0]}/${b.pins[1]})`,
      why:
        (b.enable ? `absent: enable it with ${b.enable}` : 'absent') +
        (b.optional ? ' (optional: not needed for sensors)' : ''),
    });
  }
  if (
    profile.tpm.kind !== 'none' &&
    !(await listDir(fs, hostPath(root, 'dev'))).includes('tpmrm0')
  ) {
    missing.push({
      what: `TPM (${profile.tpm.device})`,
      why: `absent: expected ${profile.tpm.note}`,
    });
  }
  return missing;
}

/**
 * Detects the board under `root`: device-tree compatible/model (ARM), DMI (x86),
 * GPIO chips by label, I2C adapters, the GPIO co-processor on USB (LattePanda). An unknown
 * board is not an error: it gets the generic profile. A forced unknown profile id is an error.
 */
export async function detectBoard(
  options: DetectOptions = {},
  deps: DetectDeps = {},
): Promise<DetectedBoard> {
  const root = options.root ?? '/';
  const fs = deps.fs ?? nodeHostFs;
  const requested = options.board ?? 'auto';
  if (requested === 'sim') return simDetected();

  // A root that is not there reads as a host without hardware; it is a wrong path instead.
  const rootMissing = await fs.readdir(root).then(
    () => false,
    () => true,
  );
  const id = await identifyBoard(root, fs, deps.profiles);
  const { compatible, dmi, model } = id;
  const { profile, matchedBy } = chooseProfile(requested, id, deps.profiles);
  const { chips, notes } = await scanChips(root, { fs, cdevInfo: deps.cdevInfo });
  const missing: ScanNote[] = [...notes];
  if (rootMissing) {
    missing.unshift({
      what: `root ${root}`,
      why: 'does not exist or is not a directory: nothing under it can be detected (check hal.root or --root)',
    });
  }
  const i2c = await scanI2c(fs, root);
  const hasCdev = chips.some((c) => c.devPath !== undefined);
  const hasSysfs = chips.some((c) => c.sysfsBase !== undefined);
  if (hasCdev && !deps.cdevInfo && chips.some((c) => c.label === '')) {
    missing.push({
      what: 'gpio chip labels',
      why: `cdev addon unavailable (${deps.cdevUnavailableReason ?? 'not built'}): chips cannot be matched by label`,
    });
  }
  const co = await detectCoprocessor(profile, fs, root, options.coprocessorDevice);
  if (co.missing) missing.push(co.missing);
  // On a co-processor board the header is the co-processor's, whatever the SoC exposes.
  const kernelBackend = hasCdev ? 'cdev' : hasSysfs ? 'sysfs' : 'none';
  const gpioBackend: DetectedBoard['gpioBackend'] = profile.coprocessor
    ? co.found
      ? 'firmata'
      : 'none'
    : kernelBackend;
  if (gpioBackend === 'none' && !profile.coprocessor) {
    missing.push({
      what: 'GPIO',
      why: 'no /dev/gpiochip* and no /sys/class/gpio: the kernel exposes no GPIO interface',
    });
  }
  missing.push(...(await expectedButMissing(profile, chips, i2c, fs, root)));
  return {
    profile,
    matchedBy,
    ...(model === undefined ? {} : { model }),
    compatible,
    dmi,
    chips,
    i2c,
    header: resolveHeader(profile, chips, co.found !== undefined),
    gpioBackend,
    missing,
    ...(co.found === undefined ? {} : { coprocessor: co.found }),
    ...(rootMissing ? { rootMissing } : {}),
  };
}

/** The detection result of the simulator board (no host access). */
export function simDetected(): DetectedBoard {
  return {
    profile: simBoard,
    matchedBy: 'forced',
    model: 'EdgeFlow simulator',
    compatible: [],
    dmi: {},
    chips: [{ name: 'gpiochip0', label: 'edgeflow-sim', lines: 54 }],
    i2c: [{ bus: 1, devPath: 'sim:i2c-1', name: 'edgeflow-sim i2c' }],
    header: simBoard.header.map((h) => ({ ...h, present: true })),
    gpioBackend: 'sim',
    missing: [],
  };
}
