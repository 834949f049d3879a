/** Options of slice-by-slice walks (`forEachSlice`, `reshardedAsync`). */
export interface SliceOptions {
  /** Abort between slices; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * How to yield between slices. Default: `setImmediate`, which lets I/O callbacks run.
   * Injectable for tests.
   */
  readonly yieldFn?: () => Promise<void>;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `visit` on each shard in order, yielding to the event loop between shards. */
export async function eachShardSliced<S>(
  shards: readonly S[],
  options: SliceOptions,
  visit: (shard: S, index: number) => void,
): Promise<void> {
  const pause = options.yieldFn ?? yieldToLoop;
  for (let i = 0; i < shards.length; i++) {
    if (i > 0) await pause();
    options.signal?.throwIfAborted();
    visit(shards[i] as S, i);
  }
}
