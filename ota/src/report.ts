import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { atomicWriteFile } from '@edgeflow/core';
import type { OtaPaths } from './paths.js';

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

/** Reads the agent report; a missing or unreadable report counts as "nothing reported". */
export async function readReport(paths: OtaPaths): Promise<TrialReport | undefined> {
  try {
    const r = reportSchema.safeParse(JSON.parse(await readFile(paths.reportFile, 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeReport(paths: OtaPaths, r: TrialReport): Promise<void> {
  await mkdir(dirname(paths.reportFile), { recursive: true });
  await atomicWriteFile(paths.reportFile, `${JSON.stringify(r)}\n`, { mode: 0o644 });
}
