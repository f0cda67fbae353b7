import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { KilnError } from '@kiln/errors';

const gzipAsync = promisify(gzip);
/** Added to the expected member's size and a quarter: the smallest output buffer a block gets. */
const minChunk = 16 * 1024;

export interface GzipPoolOptions {
  /** Blocks compressed at once (default: the available cores). */
  threads?: number;
}

/**
 * Compresses the gzip blocks of layers off the main thread. Whoever writes the layers (a build, a
 * command) creates it, hands it to every `writeLayer`, and closes it when done.
 *
 * zlib's asynchronous gzip runs each block on libuv's thread pool: no worker thread, so no second
 * V8 heap per core (each held tens of MiB of spent blocks until its own GC: about 150 MiB more
 * peak memory on a 2-core machine) and nothing to start before the first block. At most
 * `UV_THREADPOOL_SIZE` (4 by default) blocks compress at once, whatever `threads` says.
 */
export interface GzipPool {
  readonly threads: number;
  readonly closed: boolean;
  /**
   * One gzip member of `data`. `expectedSize` (say, the previous block's member) sizes the output
   * buffer; a member that outgrows it takes more buffers, with the same bytes.
   */
  compress(data: Uint8Array, level: number, expectedSize?: number): Promise<Uint8Array>;
  /** Refuses further blocks; blocks already compressing finish. Closing again is a no-op. */
  close(): Promise<void>;
}

export function createGzipPool(options: GzipPoolOptions = {}): GzipPool {
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  let closed = false;
  return {
    threads,
    get closed() {
      return closed;
    },
    async compress(data, level, expectedSize) {
      if (closed) {
        throw new KilnError('LAYER_POOL_CLOSED', 'the gzip pool was used after it was closed', {
          hint: 'a pool belongs to one build or command: create it before the first layer, close it after the last',
        });
      }
      // One output chunk per block: with the default 16 KiB chunks each block bounced between the
      // thread pool and the main thread dozens of times. Each block gets an output buffer of that size,
      // dead once the member is written but held until V8 collects it: sized from the member expected,
      // the 21 blocks of 20,000 small files left 0.5 MiB behind instead of 21 MiB. A quarter more and
      // some: a member that outgrows its buffer takes another from the main thread's next turn (with
      // twice the expected size, the Debian 20k build's peak was 15 MiB higher, and no faster).
      const bound = data.byteLength + (data.byteLength >> 6) + 1024;
      const chunkSize =
        expectedSize === undefined ? bound : Math.min(bound, expectedSize + (expectedSize >> 2) + minChunk);
      return gzipAsync(data, { level, chunkSize });
    },
    async close() {
      closed = true;
    },
  };
}
