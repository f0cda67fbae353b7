import { once } from 'node:events';
import { constants, createZstdCompress, gzipSync } from 'node:zlib';
import { KilnError } from '@kiln/errors';
import type { BlobWriter, Compression } from '@kiln/image';
import type { GzipPool } from './gzipPool.ts';

/** Takes tar blocks in order and writes them, compressed, to a blob writer. */
export interface BlockSink {
  /** Resolves when the sink can take another block (backpressure). The block is handed over. */
  push(block: Uint8Array): Promise<void>;
  finish(): Promise<void>;
}

export interface SinkOptions {
  compression: Compression;
  level: number;
  /**
   * Threads compressing gzip blocks. 1 compresses on the calling thread, like `pigz -p 1`: one
   * thread should mean one thread.
   */
  threads: number;
  /** The pool for more than one thread. */
  pool: () => GzipPool;
  /**
   * Called with each pushed block once gzip has read it: the caller may fill its memory again. Tar blocks
   * then cycle through the few in flight instead of leaving a dead 1 MiB buffer per block for the next
   * scavenge (a 20 MiB layer left about 45 MiB of them through the next RUN). Not called for zstd or none.
   */
  release?: (block: Uint8Array) => void;
}

export function createBlockSink(writer: BlobWriter, options: SinkOptions): BlockSink {
  if (options.compression === 'gzip') {
    const release = options.release ?? (() => {});
    const threads = Math.max(1, options.threads);
    return threads === 1
      ? inlineGzipSink(writer, options.level, release)
      : gzipSink(writer, options.level, threads, options.pool, release);
  }
  if (options.compression === 'zstd') return zstdSink(writer, options.level);
  return {
    push: (block) => writer.write(block),
    finish: async () => {},
  };
}

// The same members as the pool makes (one per block), so the blob does not depend on the thread count.
function inlineGzipSink(writer: BlobWriter, level: number, release: (block: Uint8Array) => void): BlockSink {
  // One blob write outstanding, overlapping with the next block's compression.
  let writing: Promise<void> = Promise.resolve();
  return {
    async push(block) {
      const member = gzipSync(block, { level });
      release(block);
      await writing;
      writing = writer.write(member);
      // Rethrown by the next push or finish; no unhandled rejection in between.
      writing.catch(() => {});
    },
    finish: () => writing,
  };
}

// Blocks go out to the pool and come back in any order; they are written in submission order. The
// first block waits for a second one: a layer of one block (most layers of a small build) is then
// compressed inline, with no hand-off to the thread pool.
function gzipSink(
  writer: BlobWriter,
  level: number,
  threads: number,
  pool: () => GzipPool,
  release: (block: Uint8Array) => void,
): BlockSink {
  const inFlight: Promise<Uint8Array>[] = [];
  let failure: unknown;
  let held: Uint8Array | undefined;
  let pooled = false;
  // The last member back from the pool: the next blocks' output buffers are sized from it.
  let expected: number | undefined;
  // One blob write outstanding at a time, overlapping with tar production rather than blocking it.
  let writing: Promise<void> = Promise.resolve();
  async function writeOldest(): Promise<void> {
    const member = await inFlight.shift()!;
    await writing;
    writing = writer.write(member);
    writing.catch((error: unknown) => {
      failure ??= error;
    });
  }
  async function submit(block: Uint8Array): Promise<void> {
    const job = pool()
      .compress(block, level, expected)
      .then((member) => {
        expected = member.byteLength;
        return member;
      });
    // Keep a rejection from surfacing as unhandled before its turn comes; a block is reused only once
    // its compression has finished.
    job.then(
      () => release(block),
      (error: unknown) => {
        failure ??= error;
      },
    );
    inFlight.push(job);
    // Two blocks per thread: one compressing, one queued, so no thread waits for the tar producer.
    while (inFlight.length >= threads * 2) await writeOldest();
  }
  return {
    async push(block) {
      if (failure !== undefined) throw failure;
      if (!pooled && held === undefined) {
        held = block;
        return;
      }
      if (held !== undefined) {
        pooled = true;
        const first = held;
        held = undefined;
        await submit(first);
      }
      await submit(block);
    },
    async finish() {
      if (held !== undefined) {
        const member = gzipSync(held, { level });
        release(held);
        held = undefined;
        await writing;
        writing = writer.write(member);
      }
      while (inFlight.length > 0) await writeOldest();
      await writing;
    },
  };
}

function zstdSink(writer: BlobWriter, level: number): BlockSink {
  if (typeof createZstdCompress !== 'function') {
    throw new KilnError('ZSTD_UNAVAILABLE', `this Node.js (${process.version}) has no zstd in zlib`, {
      hint: 'use gzip compression, or Node.js 22.15 or later',
    });
  }
  const stream = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } });
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  stream.on('data', (chunk: Buffer) => {
    chain = chain.then(() => writer.write(chunk));
    chain.catch((error: unknown) => {
      failure ??= error;
    });
  });
  stream.on('error', (error) => {
    failure ??= error;
  });
  return {
    async push(block) {
      if (failure !== undefined) throw failure;
      if (!stream.write(block)) await once(stream, 'drain');
    },
    async finish() {
      stream.end();
      await once(stream, 'end');
      await chain;
      if (failure !== undefined) throw failure;
    },
  };
}
