import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { GzipResult, GzipTask } from './gzipMessages.ts';

const workerUrl =
  process.env.KILN_BUNDLE === '1'
    ? new URL('./workers/layer-gzip.mjs', import.meta.url)
    : new URL('./worker/gzipWorker.ts', import.meta.url);

let pool: Piscina<GzipTask, GzipResult> | undefined;

/** The process-wide gzip pool, created on first use and kept until `closeLayerPool`. */
export function gzipPool(): Piscina<GzipTask, GzipResult> {
  pool ??= new Piscina<GzipTask, GzipResult>({
    filename: workerUrl.href,
    maxThreads: availableParallelism(),
    minThreads: 0,
    idleTimeout: 30_000,
  });
  return pool;
}

export function compressBlockInPool(data: Uint8Array, level: number): Promise<GzipResult> {
  const task: GzipTask = { data, level };
  return gzipPool().run(task, { transferList: [data.buffer as ArrayBuffer] });
}

/** Stops the gzip workers; the next layer written starts a new pool. */
export async function closeLayerPool(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.destroy();
}
