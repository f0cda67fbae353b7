import { createGzipPool, type GzipPool } from '@kiln/layer';
import { createHashPool, discardSpareHelpers, type HashPool } from '@kiln/snapshot';

/** The worker threads of one build: every snapshot and layer of its steps share them. */
export interface WorkerPools {
  hash: HashPool;
  gzip: GzipPool;
}

/**
 * Runs `work` with the build's worker pools and closes them however it ends (a failed or aborted
 * build included), so no worker outlives the build. Threads start only when a step needs them.
 */
export async function withWorkerPools<T>(work: (pools: WorkerPools) => Promise<T>): Promise<T> {
  const pools: WorkerPools = { hash: createHashPool(), gzip: createGzipPool() };
  try {
    return await work(pools);
  } finally {
    // Snapshot helper processes started ahead for snapshots that did not come (a failed build).
    discardSpareHelpers();
    await Promise.all([pools.hash.close(), pools.gzip.close()]);
  }
}
