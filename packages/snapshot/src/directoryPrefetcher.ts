import { comparePaths } from './comparePaths.ts';
import type { HashPool } from './hashPool.ts';
import type { IgnoreMatcher } from './ignoreRules.ts';
import type { DirectoryListing } from './listDirectory.ts';

/** Directories per worker task: enough to amortise a message, few enough to keep every worker busy. */
const DIRS_PER_TASK = 16;
/** Listings made and not yet taken by the walk, at most: bounds memory on huge trees. */
const MAX_AHEAD = 4096;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/**
 * Lists directories ahead of a depth-first walk, in the hash pool's workers. The walk still visits in
 * path order on its own thread; what moves off it is the readdir and lstat of every entry (most of a
 * walk's time, in the kernel).
 *
 * Each listing that comes back queues its subdirectories at once (not when the walk reaches them: real
 * trees are deep and narrow, and only an eager frontier keeps every worker busy). They wait in a heap
 * ordered as the walk enters directories (by `path/`), so the workers list just ahead of the walk, in
 * its order; ignored directories are never listed.
 */
export class DirectoryPrefetcher {
  private readonly pool: HashPool;
  private readonly threads: number;
  private readonly rootPrefix: string;
  private readonly isIgnored: IgnoreMatcher;
  private readonly waiting = new WalkOrderHeap();
  /** Listings requested and not yet taken; `taken` once the walk has had a directory's listing. */
  private readonly requested = new Map<string, Promise<DirectoryListing> | 'taken'>();
  private inFlight = 0;
  private ahead = 0;

  /** `rootPrefix` is the walk's root without a trailing slash (`''` for `/`), to match ignore rules. */
  constructor(pool: HashPool, threads: number, rootPrefix: string, isIgnored: IgnoreMatcher) {
    this.pool = pool;
    this.threads = threads;
    this.rootPrefix = rootPrefix;
    this.isIgnored = isIgnored;
  }

  /** The listing of `absDir`: prefetched, or requested now if the workers have not got to it. */
  take(absDir: string): Promise<DirectoryListing> {
    let listing = this.requested.get(absDir);
    if (listing === undefined || listing === 'taken') {
      this.request([absDir]);
      listing = this.requested.get(absDir) as Promise<DirectoryListing>;
    }
    this.requested.set(absDir, 'taken');
    this.ahead--;
    this.pump();
    return listing;
  }

  private pump(): void {
    // Two tasks per worker: one running, one queued, so no worker waits for the next message.
    while (this.inFlight < this.threads * 2 && this.ahead < MAX_AHEAD && this.waiting.size > 0) {
      const batch: string[] = [];
      while (batch.length < DIRS_PER_TASK && this.waiting.size > 0) {
        const dir = this.waiting.pop();
        if (!this.requested.has(dir)) batch.push(dir);
      }
      if (batch.length > 0) this.request(batch);
    }
  }

  private request(dirs: string[]): void {
    this.inFlight++;
    this.ahead += dirs.length;
    const task = this.pool.listDirectories(dirs);
    task.then(
      (listings) => {
        this.inFlight--;
        for (let i = 0; i < listings.length; i++) this.queueSubdirectories(dirs[i]!, listings[i]!);
        this.pump();
      },
      () => {
        this.inFlight--;
      },
    );
    dirs.forEach((dir, i) => {
      const listing = task.then((listings) => listings[i]!);
      // A failure surfaces when the walk takes that listing; until then it must not count as unhandled.
      listing.catch(() => {});
      this.requested.set(dir, listing);
    });
  }

  private queueSubdirectories(absDir: string, listing: DirectoryListing): void {
    const relDir = absDir === (this.rootPrefix || '/') ? '' : absDir.slice(this.rootPrefix.length + 1);
    const prefix = absDir === '/' ? '/' : `${absDir}/`;
    listing.names.forEach((name, i) => {
      if ((listing.numbers[i * 8]! & S_IFMT) !== S_IFDIR) return;
      if (!this.isIgnored(relDir === '' ? name : `${relDir}/${name}`)) this.waiting.push(prefix + name);
    });
  }
}

/** A binary min-heap of directory paths in the order a walk enters them: by `path/`, in byte order. */
class WalkOrderHeap {
  private readonly keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(dir: string): void {
    const keys = this.keys;
    let i = keys.push(`${dir}/`) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (comparePaths(keys[parent]!, keys[i]!) <= 0) break;
      [keys[parent], keys[i]] = [keys[i]!, keys[parent]!];
      i = parent;
    }
  }

  pop(): string {
    const keys = this.keys;
    const top = keys[0]!;
    const last = keys.pop()!;
    if (keys.length > 0) {
      keys[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < keys.length && comparePaths(keys[left]!, keys[smallest]!) < 0) smallest = left;
        if (right < keys.length && comparePaths(keys[right]!, keys[smallest]!) < 0) smallest = right;
        if (smallest === i) break;
        [keys[smallest], keys[i]] = [keys[i]!, keys[smallest]!];
        i = smallest;
      }
    }
    return top.slice(0, -1);
  }
}
