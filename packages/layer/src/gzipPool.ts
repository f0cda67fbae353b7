import { availableParallelism } from 'node:os';
import { KilnError } from '@kiln/errors';
import { Piscina } from 'piscina';
import type { GzipResult, GzipTask } from './gzipMessages.ts';

/** The gzip pool's worker module. A bundler maps this very expression to its own output file. */
export const gzipWorkerEntry: URL = new URL('./worker/gzipWorker.ts', import.meta.url);

export interface GzipPoolOptions {
  /** Compressing workers (default: the available cores); N threads means N workers. */
  threads?: number;
}

/**
 * The workers that compress gzip blocks for layers. Whoever writes the layers (a build, a command)
 * creates it, hands it to every `writeLayer`, and closes it when done so the process can exit. No
 * thread starts until a block needs one.
 */
export interface GzipPool {
  readonly threads: number;
  readonly closed: boolean;
  /** One gzip member of `data`, which is handed over (transferred) to the worker. */
  compress(data: Uint8Array, level: number): Promise<GzipResult>;
  /** Stops the threads; blocks still compressing fail. Closing again is a no-op. */
  close(): Promise<void>;
}

export function createGzipPool(options: GzipPoolOptions = {}): GzipPool {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  let piscina: Piscina<GzipTask, GzipResult> | undefined;
  let closing: Promise<void> | undefined;
  return {
    threads,
    get closed() {
      return closing !== undefined;
    },
    async compress(data, level) {
      if (closing !== undefined) {
        throw new KilnError('LAYER_POOL_CLOSED', 'the gzip worker pool was used after it was closed', {
          hint: 'a pool belongs to one build or command: create it before the first layer, close it after the last',
        });
      }
      piscina ??= new Piscina<GzipTask, GzipResult>({
        filename: gzipWorkerEntry.href,
        maxThreads: threads,
        minThreads: 0,
        idleTimeout: 30_000,
      });
      const task: GzipTask = { data, level };
      return piscina.run(task, { transferList: [data.buffer as ArrayBuffer] });
    },
    close() {
      closing ??= piscina?.destroy() ?? Promise.resolve();
      return closing;
    },
  };
}
