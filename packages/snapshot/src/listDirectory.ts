import { lstatSync, readdirSync, readlinkSync } from 'node:fs';

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
}

const NUMBERS = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

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
 */
export function listDirectory(absDir: string): DirectoryListing {
  let names: string[];
  try {
    names = readdirSync(absDir);
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
  for (const name of names) {
    if (packEntry(prefix + name, kept.length, numbers, times, links)) kept.push(name);
    else vanished.push(name);
  }
  return {
    missing: false,
    names: kept,
    numbers: numbers.subarray(0, kept.length * NUMBERS),
    times: times.subarray(0, kept.length * 2),
    links,
    vanished,
  };
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
  const mode = Number(st.mode);
  const at = i * NUMBERS;
  numbers[at] = mode;
  numbers[at + 1] = Number(st.uid);
  numbers[at + 2] = Number(st.gid);
  numbers[at + 3] = Number(st.size);
  numbers[at + 4] = Number(st.dev);
  numbers[at + 5] = Number(st.ino);
  numbers[at + 6] = Number(st.nlink);
  numbers[at + 7] = Number(st.rdev);
  times[2 * i] = st.mtimeNs;
  times[2 * i + 1] = st.ctimeNs;
  if ((mode & S_IFMT) === S_IFLNK) {
    try {
      links[i] = readlinkSync(absPath);
    } catch {
      links[i] = '';
    }
  }
  return true;
}

/** The stat of child `i` of a listing. */
export function entryStatAt(listing: DirectoryListing, i: number): EntryStat {
  const n = listing.numbers;
  const at = i * NUMBERS;
  const stat: EntryStat = {
    mode: n[at]!,
    uid: n[at + 1]!,
    gid: n[at + 2]!,
    size: n[at + 3]!,
    dev: n[at + 4]!,
    ino: n[at + 5]!,
    nlink: n[at + 6]!,
    rdev: n[at + 7]!,
    mtimeNs: listing.times[2 * i]!,
    ctimeNs: listing.times[2 * i + 1]!,
  };
  const link = listing.links[i];
  if (link !== undefined) stat.linkTarget = link;
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
