import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AgentError } from '../../errors.js';
import { DurableLog } from '../../wal/durable-log.js';
import type { AgentContext } from '../context.js';
import { DataDirLock } from '../data-dir-lock.js';
import type { AgentPart } from '../part.js';

/** The data directory exists, is writable, and this agent alone uses it. */
export const dataDirPart: AgentPart = {
  name: 'data-dir',
  async start({ config, units }) {
    const dir = config.dataDir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new AgentError(
        'EDGEFLOW_DATA_DIR',
        `data directory ${dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    units.lock = await DataDirLock.acquire(dir);
  },
  async stop({ units }) {
    await units.lock?.release();
  },
};

/**
 * The sensor cache as it was: the snapshot (and with `ingest.durability: wal`, the write-ahead
 * log replayed over it). Stop writes the final snapshot (wal: drains in-flight groups and
 * checkpoints), after every producer has stopped.
 */
export const cachePart: AgentPart = {
  name: 'cache',
  async start(ctx) {
    const log = ctx.log.child({ component: 'cache' });
    if (ctx.config.ingest.durability === 'wal') await recoverWal(ctx, log);
    else await loadSnapshot(ctx, log);
    ctx.units.restored = true;
  },
  async stop(ctx) {
    const durable = ctx.units.durable;
    if (durable === undefined) {
      // Never over a good snapshot with a cache that was not restored.
      if (ctx.units.restored) await snapshotNow(ctx);
      return;
    }
    try {
      await durable.close();
      ctx.metrics.snapshotWrites.inc({ result: 'ok' });
    } catch (err) {
      ctx.metrics.snapshotWrites.inc({ result: 'error' });
      ctx.log.error({ event: 'cache.snapshot_failed', err }, 'final checkpoint failed');
    }
  },
};

/**
 * One snapshot now (periodic timer, final stop). With the log, only a checkpoint may write the
 * snapshot: it records which segments it covers. A failure is counted and logged, not thrown.
 */
export async function snapshotNow(ctx: AgentContext): Promise<void> {
  try {
    if (ctx.units.durable !== undefined) await ctx.units.durable.checkpoint();
    else await ctx.snapshots.save(ctx.cache.values(), ctx.deps.now());
    ctx.metrics.snapshotWrites.inc({ result: 'ok' });
  } catch (err) {
    ctx.metrics.snapshotWrites.inc({ result: 'error' });
    ctx.log.error({ event: 'cache.snapshot_failed', err }, 'cache snapshot failed');
  }
}

async function loadSnapshot(ctx: AgentContext, log: Logger): Promise<void> {
  const res = await ctx.snapshots.load(ctx.deps.now());
  if (res.kind === 'loaded') {
    ctx.cache.restore(res.readings);
    log.info({ event: 'cache.restored', sensors: res.readings.length }, 'cache restored');
  } else if (res.kind === 'corrupt') {
    log.error(
      {
        event: 'cache.snapshot_corrupt',
        code: 'EDGEFLOW_SNAPSHOT_CORRUPT',
        reason: res.reason,
        movedTo: res.movedTo,
      },
      'cache snapshot unreadable; moved aside, starting empty',
    );
  }
}

/** Snapshot + write-ahead log replay (the log says what the snapshot misses), then compaction. */
async function recoverWal(ctx: AgentContext, log: Logger): Promise<void> {
  const { durable, report } = await DurableLog.open(
    {
      dir: join(ctx.config.dataDir, 'cache', 'wal'),
      maxSegmentBytes: ctx.config.ingest.walSegmentBytes,
    },
    {
      cache: ctx.cache,
      snapshots: ctx.snapshots,
      log: log.child({ component: 'wal' }),
      now: ctx.deps.now,
      onSync: (seconds) => ctx.metrics.walFsyncSeconds.observe(seconds),
    },
  );
  ctx.units.durable = durable;
  if (report.snapshotProblem !== undefined) {
    log.error(
      {
        event: 'cache.snapshot_corrupt',
        code: 'EDGEFLOW_SNAPSHOT_CORRUPT',
        ...report.snapshotProblem,
      },
      'cache snapshot unreadable; moved aside, replaying the write-ahead log onto an empty cache',
    );
  }
  log.info(
    { event: 'cache.restored', sensors: ctx.cache.size, wal: report },
    'cache restored (snapshot + write-ahead log replay)',
  );
}
