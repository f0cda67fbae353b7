import { KilnError } from '@kiln/errors';
import { hashToHex } from './entryColumns.ts';
import { HASH_FAILED, HASH_OK, type HashResultView, viewHashResult } from './hashMessages.ts';
import { createHashPool, defaultHashThreads, type HashPool } from './hashPool.ts';
import { hashFileBatch } from './worker/hashFileBatch.ts';

/** Batches of at most this many files or bytes: big enough to amortise messaging, small enough to balance. */
const BATCH_FILES = 256;
const BATCH_BYTES = 8 << 20;
/** Below this, the whole job hashes after the walk: interleaving would cost more than it overlaps. */
const MAIN_THREAD_FILES = 1000;
const MAIN_THREAD_BYTES = 16 << 20;

/** Ids only: paths are resolved when a batch is sent, so queued work holds no path strings. */
interface Batch {
  ids: number[];
}

/**
 * One file's outcome: `result.status[index]` is HASH_OK (then `hashes[index]`, and with `stat` the
 * file's packed fstat), HASH_VANISHED or HASH_NOT_FILE. HASH_FAILED never reaches it: the queue fails.
 */
export type HashResultHandler = (id: number, result: HashResultView, index: number, path: string) => void;

/**
 * Collects files to hash while a walk runs and hashes them in batches through the pool, one batch per turn
 * of the event loop, as the walk goes. Work is held back until it is clearly more than a small tree's
 * worth, which is hashed after the walk in one go, as is everything with `threads` ≤ 1. With `stat`,
 * every file is fstat'ed where it is hashed (see hashFileBatch).
 */
export class HashQueue {
  readonly threads: number;
  bytesHashed = 0;
  filesHashed = 0;
  private readonly stat: boolean;
  private readonly onResult: HashResultHandler;
  private readonly pathOf: (id: number) => string;
  private current: Batch = { ids: [] };
  private currentBytes = 0;
  private readonly waiting: Batch[] = [];
  private queuedFiles = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private usePool = false;
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  private readonly pool: HashPool;

  constructor(
    pool: HashPool,
    threads: number,
    pathOf: (id: number) => string,
    onResult: HashResultHandler,
    stat = false,
  ) {
    this.pool = pool;
    this.threads = threads;
    this.pathOf = pathOf;
    this.onResult = onResult;
    this.stat = stat;
  }

  add(id: number, size: number): void {
    this.current.ids.push(id);
    this.currentBytes += size;
    this.queuedFiles++;
    this.queuedBytes += size;
    if (this.current.ids.length >= BATCH_FILES || this.currentBytes >= BATCH_BYTES) this.seal();
    if (
      !this.usePool &&
      this.threads > 1 &&
      (this.queuedFiles >= MAIN_THREAD_FILES || this.queuedBytes >= MAIN_THREAD_BYTES)
    ) {
      this.usePool = true;
    }
    if (this.usePool) this.pump();
  }

  /** Whether batches wait, so the walk should yield to let them run. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  async finish(): Promise<void> {
    this.seal();
    if (!this.usePool) {
      for (const batch of this.waiting.splice(0)) {
        const paths = batch.ids.map(this.pathOf);
        const { view } = await hashFileBatch(paths, this.stat);
        this.accept(batch, paths, view);
      }
      return;
    }
    this.pump();
    while (this.running.size > 0) {
      await Promise.race(this.running);
      if (this.failure !== undefined) throw this.failure;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private seal(): void {
    if (this.current.ids.length === 0) return;
    this.waiting.push(this.current);
    this.current = { ids: [] };
    this.currentBytes = 0;
  }

  private pump(): void {
    while (this.inFlight < this.threads * 2 && this.waiting.length > 0 && this.failure === undefined) {
      const batch = this.waiting.shift()!;
      this.inFlight++;
      const paths = batch.ids.map(this.pathOf);
      const task: Promise<void> = this.pool
        .hash({ paths: paths.join('\0'), stat: this.stat })
        .then(
          (buffer) => this.accept(batch, paths, viewHashResult(buffer, paths.length, this.stat)),
          (error: unknown) => {
            // A closed pool says so itself; anything else is the worker's failure.
            this.failure =
              error instanceof KilnError && error.code === 'SNAPSHOT_POOL_CLOSED'
                ? error
                : new KilnError('SNAPSHOT_HASH_WORKER_FAILED', `hashing failed: ${String(error)}`, {
                    cause: error,
                  });
          },
        )
        .finally(() => {
          this.inFlight--;
          this.running.delete(task);
          this.pump();
        });
      this.running.add(task);
    }
  }

  private accept(batch: Batch, paths: string[], view: HashResultView): void {
    for (let i = 0; i < paths.length; i++) {
      const status = view.status[i]!;
      if (status === HASH_FAILED) {
        this.failure ??= new KilnError('SNAPSHOT_READ_FAILED', `cannot read ${paths[i]} to hash it`, {
          hint: 'the snapshot runs as a user that must be able to read every file in the root',
        });
        continue;
      }
      if (status === HASH_OK) {
        this.filesHashed++;
        this.bytesHashed += view.bytes[i]!;
      }
      this.onResult(batch.ids[i]!, view, i, paths[i]!);
    }
  }
}

export interface HashFilesOptions {
  /** The caller's pool; without one, a pool of `threads` lives as long as this call. */
  pool?: HashPool;
  /** Default the pool's threads, else the available cores; ≤ 1 hashes on the calling thread. */
  threads?: number;
}

/**
 * xxh64 of each file as 16 hex digits, in order (the builder's cache keys for COPY sources).
 * Fails with SNAPSHOT_READ_FAILED when a file cannot be read.
 */
export async function hashFiles(
  absPaths: readonly string[],
  options: HashFilesOptions = {},
): Promise<string[]> {
  const threads = options.threads ?? options.pool?.threads ?? defaultHashThreads();
  const pool = options.pool ?? createHashPool({ threads: Math.max(threads, defaultHashThreads()) });
  try {
    return await hashWith(pool, threads, absPaths);
  } finally {
    if (options.pool === undefined) await pool.close();
  }
}

async function hashWith(pool: HashPool, threads: number, absPaths: readonly string[]): Promise<string[]> {
  const out = new Array<string>(absPaths.length);
  const queue = new HashQueue(
    pool,
    threads,
    (i) => absPaths[i]!,
    (id, result, index, path) => {
      if (result.status[index] !== HASH_OK)
        throw new KilnError('SNAPSHOT_READ_FAILED', `cannot read ${path}: it does not exist`);
      out[id] = hashToHex(result.hashes[index]!);
    },
  );
  for (let i = 0; i < absPaths.length; i++) queue.add(i, 0);
  await queue.finish();
  return out;
}
