import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { OtaError } from './errors.js';
import type { OtaPaths } from './paths.js';

// state/package.json names the release the Debian package installed: dpkg owns its files, so OTA
// never prunes it (layout.ts pruneReleases). Written by package-owner.ts (the package's postinst).

const pinSchema = z.strictObject({ format: z.literal(1), version: z.string() });

export function pinFile(paths: OtaPaths): string {
  return join(paths.stateDir, 'package.json');
}

/** The release the Debian package installed (never pruned by OTA), if the box has one. */
export async function packagedVersion(paths: OtaPaths): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(pinFile(paths), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OtaError('EDGEFLOW_OTA_BAD_STATE', `cannot read ${pinFile(paths)}`, { cause: e });
  }
  try {
    return pinSchema.parse(JSON.parse(text)).version;
  } catch (cause) {
    throw new OtaError(
      'EDGEFLOW_OTA_BAD_STATE',
      `${pinFile(paths)} is not {"format":1,"version":…}: reinstall the package (apt install --reinstall edgeflow)`,
      { cause },
    );
  }
}
