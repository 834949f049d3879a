import type { DetectedBoard } from '../board/detect.js';
import { findChip } from '../board/chips.js';
import type { GpioBackendName } from '../board/types.js';
import { HalError } from '../errors.js';
import type { BindingLoad } from './cdev-binding.js';
import { loadCdevBinding } from './cdev-binding.js';
import { CdevGpioChip } from './cdev-chip.js';
import { FIRMATA_CHIP_LABEL, FirmataGpioChip } from '../firmata/gpio-chip.js';
import type { FirmataLink } from '../firmata/link.js';
import { SimGpioChip } from './sim-chip.js';
import { SimGpioChipModel } from './sim-model.js';
import type { OnoffGpioCtor } from './sysfs-chip.js';
import { SysfsGpioChip } from './sysfs-chip.js';
import type { GpioChip } from './types.js';

/** Result of loading onoff: its Gpio class or why it cannot be used. */
export type OnoffLoad = { ok: true; Gpio: OnoffGpioCtor } | { ok: false; reason: string };

/** Loads the optional onoff package. */
export async function loadOnoff(): Promise<OnoffLoad> {
  try {
    const mod = (await import('onoff')) as unknown as {
      Gpio: OnoffGpioCtor & { accessible?: boolean };
    };
    if (!mod.Gpio.accessible) {
      return { ok: false, reason: 'onoff is installed but /sys/class/gpio is not accessible' };
    }
    return { ok: true, Gpio: mod.Gpio };
  } catch (err) {
    return {
      ok: false,
      reason: `optional package onoff not installed or not built (${(err as Error).message.split('\n')[0]})`,
    };
  }
}

/** Where backends come from; every field has a production default. */
export interface GpioOpenDeps {
  readonly cdev?: () => BindingLoad;
  readonly onoff?: () => Promise<OnoffLoad>;
  /** Simulated chips by label (created on demand when absent). */
  readonly simChips?: Map<string, SimGpioChipModel>;
  readonly now?: () => bigint;
  /** The board's co-processor link (LattePanda): pins on the "firmata" chip go through it. */
  readonly firmata?: () => Promise<FirmataLink>;
}

function unavailable(backend: string, label: string, reason: string): HalError {
  return new HalError(
    'EDGEFLOW_HAL_BACKEND_UNAVAILABLE',
    `GPIO backend "${backend}" cannot open chip "${label}": ${reason}`,
    { details: { chip: label } },
  );
}

/**
 * Opens the chip with this label through the chosen backend ('auto' = cdev where
 * /dev/gpiochip* exists, else sysfs). Chips are found by label, never by number.
 */
export async function openGpioChip(
  detected: DetectedBoard,
  label: string,
  backend: GpioBackendName | 'auto',
  deps: GpioOpenDeps = {},
): Promise<GpioChip> {
  if (label === FIRMATA_CHIP_LABEL && backend !== 'sim') {
    if (!deps.firmata) {
      const why = detected.missing.find((m) => m.what.startsWith('co-processor'))?.why;
      throw unavailable(
        'firmata',
        label,
        why ?? `the ${detected.profile.name} profile has no Firmata co-processor`,
      );
    }
    return new FirmataGpioChip(await deps.firmata());
  }
  // On a co-processor board, "<kernel chip label>:<offset>" pins still use the kernel backends.
  const kernel = detected.chips.some((c) => c.devPath !== undefined)
    ? 'cdev'
    : detected.chips.some((c) => c.sysfsBase !== undefined)
      ? 'sysfs'
      : 'none';
  const auto = detected.gpioBackend === 'firmata' ? kernel : detected.gpioBackend;
  const choice = backend === 'auto' ? auto : backend;
  if (choice === 'firmata')
    throw unavailable(
      'firmata',
      label,
      'only the co-processor\'s "firmata" chip is reached through Firmata',
    );
  if (choice === 'sim') {
    const sims = deps.simChips ?? new Map<string, SimGpioChipModel>();
    let model = sims.get(label);
    if (!model) {
      model = new SimGpioChipModel(label, 54, deps.now);
      sims.set(label, model);
    }
    return new SimGpioChip(model);
  }
  if (choice === 'none') throw unavailable('auto', label, 'this host exposes no GPIO interface');
  const chip = findChip(detected.chips, label);
  if (!chip) {
    throw new HalError(
      'EDGEFLOW_HAL_CHIP_NOT_FOUND',
      `no GPIO chip labelled "${label}" (found: ${detected.chips.map((c) => c.label || c.name).join(', ') || 'none'})`,
      { details: { chip: label } },
    );
  }
  if (choice === 'cdev') {
    const load = (deps.cdev ?? loadCdevBinding)();
    if (!chip.devPath) throw unavailable('cdev', label, 'the chip has no /dev/gpiochip node');
    if (!load.ok) {
      // Fall back to sysfs only when the caller let us choose.
      if (backend === 'auto' && chip.sysfsBase !== undefined) {
        return openGpioChip(detected, label, 'sysfs', deps);
      }
      throw unavailable('cdev', label, load.reason);
    }
    return new CdevGpioChip(load.binding, chip.devPath);
  }
  if (chip.sysfsBase === undefined) {
    throw unavailable('sysfs', label, 'the chip is not exposed under /sys/class/gpio');
  }
  const onoff = await (deps.onoff ?? loadOnoff)();
  if (!onoff.ok) throw unavailable('sysfs', label, onoff.reason);
  return new SysfsGpioChip(
    { label, lines: chip.lines, base: chip.sysfsBase },
    onoff.Gpio,
    deps.now,
  );
}
