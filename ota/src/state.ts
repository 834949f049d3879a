import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { OtaError } from './errors.js';
import { atomicWriteFile } from '@edgeflow/core';
import type { OtaPaths } from './paths.js';

const lastStop = z.strictObject({
  result: z.string(),
  exitCode: z.string(),
  exitStatus: z.string(),
  at: z.string(),
});

const trial = z.strictObject({
  version: z.string(),
  from: z.string().nullable(),
  installedAt: z.string(),
  /** Starts seen by `prestart`; a second start of an uncommitted trial means it failed. */
  starts: z.number().int().nonnegative(),
  firstStartAt: z.string().nullable(),
  probationSec: z.number().positive(),
  deadlineSec: z.number().positive(),
  lastStop: lastStop.nullable(),
});

const install = z.strictObject({
  version: z.string(),
  from: z.string().nullable(),
  step: z.literal('switching'),
  trial: z.boolean(),
  probationSec: z.number().positive(),
  deadlineSec: z.number().positive(),
  startedAt: z.string(),
});

const rollback = z.strictObject({
  from: z.string(),
  to: z.string(),
  reason: z.string(),
  startedAt: z.string(),
});

const historyEntry = z.strictObject({
  at: z.string(),
  event: z.enum(['installed', 'trial-started', 'committed', 'rolled-back', 'recovered']),
  version: z.string(),
  from: z.string().nullable().optional(),
  reason: z.string().optional(),
});

export const stateSchema = z.strictObject({
  format: z.literal(1),
  current: z.string().nullable(),
  previous: z.string().nullable(),
  trial: trial.nullable(),
  /** Journal of an install between "about to switch" and "state written" (power-loss recovery). */
  install: install.nullable(),
  /** Journal of a rollback in progress; recovery redoes it (every step is idempotent). */
  rollback: rollback.nullable(),
  history: z.array(historyEntry),
});

export type OtaState = z.infer<typeof stateSchema>;
export type TrialState = z.infer<typeof trial>;
export type HistoryEntry = z.infer<typeof historyEntry>;

const HISTORY_MAX = 100;

export function emptyState(): OtaState {
  return {
    format: 1,
    current: null,
    previous: null,
    trial: null,
    install: null,
    rollback: null,
    history: [],
  };
}

/** Reads the state file; a missing file is an empty state. */
export async function loadState(paths: OtaPaths): Promise<OtaState> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new OtaError('EDGEFLOW_OTA_BAD_STATE', `cannot read ${paths.stateFile}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new OtaError('EDGEFLOW_OTA_BAD_STATE', `${paths.stateFile} is not JSON`, { cause });
  }
  const r = stateSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new OtaError(
      'EDGEFLOW_OTA_BAD_STATE',
      `${paths.stateFile}: ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`,
      {
        cause: r.error,
      },
    );
  }
  return r.data;
}

/** Writes the state atomically (readable by the unprivileged agent, writable by root only). */
export async function saveState(paths: OtaPaths, s: OtaState): Promise<void> {
  if (s.history.length > HISTORY_MAX) s.history.splice(0, s.history.length - HISTORY_MAX);
  await atomicWriteFile(paths.stateFile, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o644 });
}

/** Appends a history entry. */
export function record(s: OtaState, e: HistoryEntry): void {
  s.history.push(e);
}
