import { availableParallelism } from 'node:os';
import { KilnError } from '@kiln/errors';
import type { HashTask } from './hashMessages.ts';
import { hashFileBatch } from './worker/hashFileBatch.ts';

export function defaultHashThreads(): number {
  return Math.max(1, availableParallelism());
}

export interface HashPoolOptions {
  /** How many cores a snapshot may use (default: the available cores): more than one lets a first
   *  hashing snapshot be walked by the C helper in its own process while this thread hashes. */
  threads?: number;
}

/**
 * Hashes batches of files for snapshots, on the calling thread. Whoever runs the snapshots (a build, a
 * command) creates it, hands it to every `takeSnapshot`, and closes it when done.
 *
 * No worker threads: each was a V8 isolate of ≈45 MiB resident, and the Debian 20k build in a pod peaked
 * at 210 MiB with two against 124 MiB on one core. The work is syscalls (open, fstat, read, close) and
 * xxh64 in wasm at GB/s, cheap next to the walk the C helper does in its own process (see design.md).
 */
export interface HashPool {
  readonly threads: number;
  readonly closed: boolean;
  hash(task: HashTask): Promise<ArrayBuffer>;
  /** Later tasks fail. Closing again is a no-op. */
  close(): Promise<void>;
}

export function createHashPool(options: HashPoolOptions = {}): HashPool {
  const threads = Math.max(1, Math.floor(options.threads ?? defaultHashThreads()));
  let closed = false;
  return {
    threads,
    get closed() {
      return closed;
    },
    hash: async (task) => {
      if (closed) {
        throw new KilnError('SNAPSHOT_POOL_CLOSED', 'the hash pool was used after it was closed', {
          hint: 'a pool belongs to one build or command: create it before the first snapshot, close it after the last',
        });
      }
      // One batch at a time, after whatever else is ready (the walk helper's records), so the walk and the
      // hashing interleave instead of one waiting for the other.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const { buffer } = await hashFileBatch(task.paths.split('\0'), task.stat);
      return buffer;
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
