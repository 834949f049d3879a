import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EdgeReadyError } from '../errors.js';
import { atomicWriteFile } from '@edgeflow/core';
import type { RunState } from './types.js';

/** Files of a run under its output directory. */
export interface RunPaths {
  readonly out: string;
  readonly stateDir: string;
  readonly checkpoint: string;
  readonly series: string;
  /** The hash-chained evidence log (evidence/chain.ts). */
  readonly evidence: string;
  readonly agentLog: string;
  readonly agentConfig: string;
  readonly agentData: string;
  /** API token of the suite's own agent (0600, created once per run). */
  readonly agentToken: string;
  readonly suiteLog: string;
}

export function runPaths(out: string): RunPaths {
  const stateDir = join(out, 'state');
  return {
    out,
    stateDir,
    checkpoint: join(stateDir, 'checkpoint.json'),
    series: join(out, 'timeseries.jsonl'),
    evidence: join(out, 'evidence.jsonl'),
    agentLog: join(out, 'agent.log'),
    agentConfig: join(stateDir, 'agent-config.json'),
    agentData: join(stateDir, 'agent-data'),
    agentToken: join(stateDir, 'agent-token'),
    suiteLog: join(out, 'edgeready.log'),
  };
}

// Validated where it enters (a checkpoint may be damaged or from another version); the deep
// parts (check records, counters) are written only by this code and are checked by shape.
const checkpointSchema = z.looseObject({
  version: z.literal(2, { error: 'a checkpoint of another suite version (version 2 expected)' }),
  runId: z.string().min(1),
  suiteVersion: z.string(),
  status: z.enum(['running', 'interrupted', 'finished', 'failed']),
  createdAt: z.string(),
  activeMs: z.number().nonnegative(),
  lastCheckpointAt: z.string(),
  bootId: z.string(),
  pid: z.number().int(),
  startDone: z.boolean(),
  lastPeriodicMs: z.number(),
  rounds: z.number().int(),
  options: z.looseObject({
    mode: z.enum(['functional', 'stress']),
    durationMs: z.number().positive(),
    outDir: z.string(),
  }),
  segments: z.array(z.looseObject({ index: z.number().int(), devicePrefix: z.string() })),
  gaps: z.array(z.looseObject({ seconds: z.number() })),
  agent: z.looseObject({ url: z.string(), mqttUrl: z.string() }),
  latency: z.looseObject({ counts: z.array(z.number()), max: z.number() }),
  cacheLatency: z.looseObject({ counts: z.array(z.number()), max: z.number() }),
  http: z.record(z.string(), z.unknown()),
});

/** Writes the checkpoint atomically (a crash leaves the previous one intact). */
export async function saveCheckpoint(paths: RunPaths, state: RunState): Promise<void> {
  state.lastCheckpointAt = new Date().toISOString();
  await atomicWriteFile(paths.checkpoint, `${JSON.stringify(state)}\n`, { mode: 0o644 });
}

/** Reads and validates the checkpoint of a run directory. */
export async function loadCheckpoint(paths: RunPaths): Promise<RunState> {
  let text: string;
  try {
    text = await readFile(paths.checkpoint, 'utf8');
  } catch (cause) {
    throw new EdgeReadyError(
      'EDGEFLOW_ER_NO_CHECKPOINT',
      `${paths.checkpoint}: no checkpoint (${(cause as Error).message})`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new EdgeReadyError('EDGEFLOW_ER_CHECKPOINT_CORRUPT', `${paths.checkpoint}: not JSON`, {
      cause,
    });
  }
  const r = checkpointSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new EdgeReadyError(
      'EDGEFLOW_ER_CHECKPOINT_CORRUPT',
      `${paths.checkpoint}: ${i ? `${i.path.join('.')}: ${i.message}` : 'invalid'}`,
    );
  }
  return json as RunState;
}
