import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from 'node:fs';

/** What a walk needs of one directory entry's lstat (numbers, and nanosecond times as BigInts). */
export interface EntryStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  ino: number;
  nlink: number;
  rdev: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** A symlink's target, read with the listing ('' when it could not be read). */
  linkTarget?: string;
  /**
   * A regular file by its directory entry, not lstat'ed: only `mode`'s type bits are set. The hash worker
   * that opens it fills in the rest from fstat (one path lookup per file instead of two).
   */
  deferred?: true;
  /** Read with the listing (a helper walk), when the entry has any. */
  xattrs?: Record<string, Uint8Array>;
}

/** Numbers per entry in packed stats: mode, uid, gid, size, dev, ino, nlink, rdev. */
export const STAT_NUMBERS = 8;
const NUMBERS = STAT_NUMBERS;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/**
 * One directory's children, each lstat'ed, packed in typed arrays so a listing made in a worker crosses
 * to the walking thread as a few buffers rather than one object per entry.
 */
export interface DirectoryListing {
  /** The directory was gone (or no longer a directory) when listed. */
  missing: boolean;
  /** Children that were lstat'ed, in readdir order. */
  names: string[];
  /** Per child: mode, uid, gid, size, dev, ino, nlink, rdev. */
  numbers: Float64Array;
  /** Per child: mtime and ctime in nanoseconds. */
  times: BigInt64Array;
  /** Symlink targets by child position. */
  links: Record<number, string>;
  /** Children that vanished between readdir and lstat. */
  vanished: string[];
  /** Children left for the hash worker to stat (`deferFiles`), by position. */
  deferred?: Uint8Array;
  /** Set when the directory could not be read (as data: a listing made in a worker crosses threads). */
  failure?: { message: string; code?: string };
}

function emptyListing(): DirectoryListing {
  return {
    missing: false,
    names: [],
    numbers: new Float64Array(0),
    times: new BigInt64Array(0),
    links: {},
    vanished: [],
  };
}

export function listingFailure(error: unknown): DirectoryListing {
  const { message, code } = error as NodeJS.ErrnoException;
  return {
    ...emptyListing(),
    failure: code === undefined ? { message: String(message) } : { message, code },
  };
}

/** The error a failed listing stands for, as readdir/lstat threw it (message and code). */
export function listingError(failure: { message: string; code?: string }): Error {
  return Object.assign(new Error(failure.message), failure.code === undefined ? {} : { code: failure.code });
}

/**
 * Lists and lstats one directory (an absolute path without a trailing slash, or `/`). ENOENT/ENOTDIR
 * on the directory itself gives a `missing` listing (removed or replaced since its parent was listed);
 * other errors are thrown.
 *
 * With `deferFiles`, regular files (by the type readdir reports) are not lstat'ed but marked `deferred`:
 * for a snapshot that hashes every file, the worker that opens each one stats it there.
 */
export function listDirectory(absDir: string, deferFiles = false): DirectoryListing {
  let names: string[];
  let isDeferred: boolean[] | undefined;
  try {
    if (deferFiles) {
      const dirents = readdirSync(absDir, { withFileTypes: true });
      names = dirents.map((dirent) => dirent.name);
      // An undecodable name (U+FFFD) cannot be opened by its decoded form: lstat reports it as usual.
      isDeferred = dirents.map((dirent) => dirent.isFile() && !dirent.name.includes('\uFFFD'));
    } else {
      names = readdirSync(absDir);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { ...emptyListing(), missing: true };
    }
    throw error;
  }
  const prefix = absDir === '/' ? '/' : `${absDir}/`;
  const numbers = new Float64Array(names.length * NUMBERS);
  const times = new BigInt64Array(names.length * 2);
  const kept: string[] = [];
  const links: Record<number, string> = {};
  const vanished: string[] = [];
  const deferred = isDeferred === undefined ? undefined : new Uint8Array(names.length);
  for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    if (isDeferred?.[n] === true) {
      numbers[kept.length * NUMBERS] = S_IFREG;
      deferred![kept.length] = 1;
      kept.push(name);
    } else if (packEntry(prefix + name, kept.length, numbers, times, links)) kept.push(name);
    else vanished.push(name);
  }
  const listing: DirectoryListing = {
    missing: false,
    names: kept,
    numbers: numbers.subarray(0, kept.length * NUMBERS),
    times: times.subarray(0, kept.length * 2),
    links,
    vanished,
  };
  if (deferred !== undefined) listing.deferred = deferred;
  return listing;
}

/** lstats `absPath` into row `i` of the arrays (and its target into `links` for a symlink); false if gone. */
function packEntry(
  absPath: string,
  i: number,
  numbers: Float64Array,
  times: BigInt64Array,
  links: Record<number, string>,
): boolean {
  const st = lstatSync(absPath, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) return false;
  packStat(st, i, numbers, times);
  if ((Number(st.mode) & S_IFMT) === S_IFLNK) {
    try {
      links[i] = readlinkSync(absPath);
    } catch {
      links[i] = '';
    }
  }
  return true;
}

/** Writes a stat into row `i` of packed arrays (a listing's, or a hash worker's fstat results). */
export function packStat(st: BigIntStats, i: number, numbers: Float64Array, times: BigInt64Array): void {
  const at = i * NUMBERS;
  numbers[at] = Number(st.mode);
  numbers[at + 1] = Number(st.uid);
  numbers[at + 2] = Number(st.gid);
  numbers[at + 3] = Number(st.size);
  numbers[at + 4] = Number(st.dev);
  numbers[at + 5] = Number(st.ino);
  numbers[at + 6] = Number(st.nlink);
  numbers[at + 7] = Number(st.rdev);
  times[2 * i] = st.mtimeNs;
  times[2 * i + 1] = st.ctimeNs;
}

/** Row `i` of packed stats (see packStat). */
export function unpackStat(numbers: Float64Array, times: BigInt64Array, i: number): EntryStat {
  const at = i * NUMBERS;
  return {
    mode: numbers[at]!,
    uid: numbers[at + 1]!,
    gid: numbers[at + 2]!,
    size: numbers[at + 3]!,
    dev: numbers[at + 4]!,
    ino: numbers[at + 5]!,
    nlink: numbers[at + 6]!,
    rdev: numbers[at + 7]!,
    mtimeNs: times[2 * i]!,
    ctimeNs: times[2 * i + 1]!,
  };
}

/** The stat of child `i` of a listing. */
export function entryStatAt(listing: DirectoryListing, i: number): EntryStat {
  const stat = unpackStat(listing.numbers, listing.times, i);
  const link = listing.links[i];
  if (link !== undefined) stat.linkTarget = link;
  if (listing.deferred?.[i] === 1) stat.deferred = true;
  return stat;
}

/** An EntryStat from one lstat (paths the walk did not list: a snapshotPaths start and its ancestors). */
export function lstatEntry(absPath: string): EntryStat | undefined {
  const listing: DirectoryListing = {
    ...emptyListing(),
    names: [absPath],
    numbers: new Float64Array(NUMBERS),
    times: new BigInt64Array(2),
  };
  return packEntry(absPath, 0, listing.numbers, listing.times, listing.links)
    ? entryStatAt(listing, 0)
    : undefined;
}
