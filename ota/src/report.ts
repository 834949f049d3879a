import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { atomicWriteFile } from '@edgeflow/core';
import type { OtaPaths } from './paths.js';
import { Dir, UnsafePathError } from './safe-fs/index.js';
import { asOtaError, errno } from './boundary.js';

/**
 * What the (unprivileged) agent reports about its trial. The root-side code reads it; the agent
 * can only speak for itself here, it can never switch releases.
 */
export const reportSchema = z.strictObject({
  version: z.string(),
  startedAt: z.string(),
  readyAt: z.string().nullable(),
  healthySince: z.string().nullable(),
  committedAt: z.string().nullable(),
  failure: z.string().nullable(),
});
export type TrialReport = z.infer<typeof reportSchema>;

/** The report is a few hundred bytes; anything much larger is not one. */
const MAX_REPORT_BYTES = 64 * 1024;

/**
 * Reads the agent report, as root, from the agent's state directory: through {@link Dir}
 * (no link followed, a FIFO never blocks, a file the agent does not own is refused). A missing,
 * unsafe or invalid report counts as "nothing reported"; an unsafe one is logged.
 */
export async function readReport(paths: OtaPaths, log?: Logger): Promise<TrialReport | undefined> {
  let dir: Dir | undefined;
  try {
    dir = await Dir.open(dirname(paths.reportFile));
    const bytes = await dir.readFile(basename(paths.reportFile), { maxBytes: MAX_REPORT_BYTES });
    if (!bytes) return undefined;
    const r = reportSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return r.success ? r.data : undefined;
  } catch (e) {
    if (e instanceof UnsafePathError)
      log?.warn(
        { event: 'ota.report_unsafe', why: e.message },
        `trial report ignored: ${e.message}`,
      );
    return undefined;
  } finally {
    await dir?.close();
  }
}

/** Removes the agent report (the link itself if it is one; nothing is followed). */
export async function removeReport(paths: OtaPaths): Promise<void> {
  let dir: Dir;
  try {
    dir = await Dir.open(dirname(paths.reportFile));
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw asOtaError(e, paths.reportFile);
  }
  try {
    const st = await dir.lstat(basename(paths.reportFile));
    if (st?.isDirectory()) await dir.removeTree(basename(paths.reportFile));
    else await dir.unlinkIfExists(basename(paths.reportFile));
  } catch (e) {
    throw asOtaError(e, paths.reportFile);
  } finally {
    await dir.close();
  }
}

export async function writeReport(paths: OtaPaths, r: TrialReport): Promise<void> {
  await mkdir(dirname(paths.reportFile), { recursive: true });
  await atomicWriteFile(paths.reportFile, `${JSON.stringify(r)}\n`, { mode: 0o644 });
}
