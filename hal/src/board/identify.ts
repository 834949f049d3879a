import { globMatch } from '@edgeflow/core';
import type { HostFs } from './host-fs.js';
import { hostPath, nodeHostFs, readText } from './host-fs.js';
import { boardProfiles, genericLinux } from './profiles/index.js';
import type { BoardProfile } from './types.js';

/**
 * Which board this is, in the one vocabulary every EdgeFlow tool uses: the HAL profile id
 * (`rpi5`, `jetson-orin-nano`, `rock-5b`, ...). `edgeflow hal`, `edgeflow dt` and `edgeflow ota`
 * all name boards by it; device-tree compatible strings are how a host is recognised, not names.
 */
export interface BoardIdentity {
  readonly profile: BoardProfile;
  /** `none`: no profile matched (the generic profile). */
  readonly matchedBy: 'compatible' | 'dmi' | 'none';
  /** `/proc/device-tree/compatible`, most specific first (empty on x86). */
  readonly compatible: readonly string[];
  readonly model?: string;
  readonly dmi: Readonly<Record<string, string>>;
}

const DMI_FIELDS = ['board_vendor', 'board_name', 'product_name', 'sys_vendor'] as const;

/** Picks the profile for a compatible list (ARM) or DMI strings (x86); `extra` first. */
export function matchProfile(
  compatible: readonly string[],
  dmi: Readonly<Record<string, string>>,
  extra: readonly BoardProfile[] = [],
): { profile: BoardProfile; matchedBy: BoardIdentity['matchedBy'] } {
  for (const p of [...extra, ...boardProfiles]) {
    if (p.compatible.some((pat) => compatible.some((c) => globMatch(pat, c)))) {
      return { profile: p, matchedBy: 'compatible' };
    }
    if (p.dmi && compatible.length === 0) {
      const wantVendor = p.dmi.boardVendor?.toLowerCase();
      const wantProduct = p.dmi.productName?.toLowerCase();
      const vendor = `${dmi.board_vendor ?? ''} ${dmi.sys_vendor ?? ''}`.toLowerCase();
      const product = `${dmi.product_name ?? ''} ${dmi.board_name ?? ''}`.toLowerCase();
      const ok =
        (wantVendor === undefined || vendor.includes(wantVendor)) &&
        (wantProduct === undefined || product.includes(wantProduct));
      if (ok && (wantVendor !== undefined || wantProduct !== undefined)) {
        return { profile: p, matchedBy: 'dmi' };
      }
    }
  }
  return { profile: genericLinux, matchedBy: 'none' };
}

/**
 * Reads the board's identity under `root` (device tree on ARM, DMI on x86): the light part of
 * detection, with no look at GPIO chips or buses, for tools that only need the board id.
 */
export async function identifyBoard(
  root = '/',
  fs: Pick<HostFs, 'readFile'> = nodeHostFs,
  /** Profiles tried before the built-in ones (tests describe emulated boards this way). */
  extra: readonly BoardProfile[] = [],
): Promise<BoardIdentity> {
  const rfs = fs as HostFs;
  const compatRaw = await readText(rfs, hostPath(root, 'proc/device-tree/compatible'));
  const compatible = (compatRaw ?? '').split('\0').filter((s) => s.length > 0);
  const model = await readText(rfs, hostPath(root, 'proc/device-tree/model'));
  const dmi: Record<string, string> = {};
  for (const f of DMI_FIELDS) {
    const v = await readText(rfs, hostPath(root, `sys/class/dmi/id/${f}`));
    if (v !== undefined) dmi[f] = v;
  }
  return {
    ...matchProfile(compatible, dmi, extra),
    compatible,
    ...(model === undefined ? {} : { model }),
    dmi,
  };
}

/**
 * Whether one entry of a board list (an OTA manifest's `boards`) names this board: `*` (any),
 * the profile id (`rpi5`), or a device-tree compatible pattern with `*` wildcards
 * (`nvidia,p3768-0000+p3767-*` for every Orin Nano/NX SKU) matching one of its compatibles.
 * A pattern is told from an id by its comma (`vendor,board`, devicetree spec §2.3.1).
 */
export function boardEntryMatches(
  entry: string,
  board: { readonly id: string; readonly compatible: readonly string[] },
): boolean {
  if (entry === '*' || entry === board.id) return true;
  if (!entry.includes(',')) return false;
  return board.compatible.some((c) => globMatch(entry, c));
}

/** Ids of the real boards (not `generic`, not `sim`), in detection order. */
export const BOARD_PROFILE_IDS: readonly string[] = boardProfiles
  .filter((p) => p.family !== 'generic' && p.family !== 'sim')
  .map((p) => p.id);
