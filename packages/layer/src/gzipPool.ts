import { Piscina } from 'piscina';
import type { GzipResult, GzipTask } from './gzipMessages.ts';

const workerUrl =
  process.env.KILN_BUNDLE === '1'
    ? new URL('./workers/layer-gzip.mjs', import.meta.url)
    : new URL('./worker/gzipWorker.ts', import.meta.url);

// One pool per thread count, so N threads means N compressing workers (1 thread compresses inline).
const pools = new Map<number, Piscina<GzipTask, GzipResult>>();

/** The process-wide gzip pool of `threads` workers, created on first use and kept until `closeLayerPool`. */
export function gzipPool(threads: number): Piscina<GzipTask, GzipResult> {
  let pool = pools.get(threads);
  if (pool === undefined) {
    pool = new Piscina<GzipTask, GzipResult>({
      filename: workerUrl.href,
      maxThreads: threads,
      minThreads: 0,
      idleTimeout: 30_000,
    });
    pools.set(threads, pool);
  }
  return pool;
}

export function compressBlockInPool(data: Uint8Array, level: number, threads: number): Promise<GzipResult> {
  const task: GzipTask = { data, level };
  return gzipPool(threads).run(task, { transferList: [data.buffer as ArrayBuffer] });
}

/** Stops the gzip workers; the next layer written starts new ones. */
export async function closeLayerPool(): Promise<void> {
  const current = [...pools.values()];
  pools.clear();
  await Promise.all(current.map((pool) => pool.destroy()));
}
