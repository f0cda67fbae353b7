import { STAT_NUMBERS } from './listDirectory.ts';

/**
 * What a snapshot hands the hash pool. A task is a batch of absolute paths; the result is one ArrayBuffer laid out as
 * `count` xxh64 values, `count` byte counts, with `stat` the fstat of each file (`count` × 8 numbers,
 * then `count` × 2 nanosecond times), then `count` status bytes.
 */
export interface HashTask {
  /** Absolute paths joined by NUL: one string crosses to a worker far cheaper than an array of them. */
  paths: string;
  /** Also fstat each file once opened (its lstat was deferred by the walk). */
  stat: boolean;
}

export const HASH_OK = 0;
/** The file disappeared between the walk and the read. */
export const HASH_VANISHED = 1;
export const HASH_FAILED = 2;
/** Opened to stat and hash, it was no longer a regular file (a symlink, a directory, …). */
export const HASH_NOT_FILE = 3;

export interface HashResultView {
  hashes: BigUint64Array;
  bytes: Float64Array;
  status: Uint8Array;
  /** With `stat`: per file the numbers of a packed stat (see packStat), and mtime then ctime in ns. */
  statNumbers?: Float64Array;
  statTimes?: BigInt64Array;
}

function resultSize(count: number, stat: boolean): number {
  return count * (17 + (stat ? STAT_NUMBERS * 8 + 16 : 0));
}

export function allocateHashResult(
  count: number,
  stat: boolean,
): { buffer: ArrayBuffer; view: HashResultView } {
  const buffer = new ArrayBuffer(resultSize(count, stat));
  return { buffer, view: viewHashResult(buffer, count, stat) };
}

export function viewHashResult(buffer: ArrayBuffer, count: number, stat: boolean): HashResultView {
  const view: HashResultView = {
    hashes: new BigUint64Array(buffer, 0, count),
    bytes: new Float64Array(buffer, count * 8, count),
    status: new Uint8Array(buffer, resultSize(count, stat) - count, count),
  };
  if (stat) {
    view.statNumbers = new Float64Array(buffer, count * 16, count * STAT_NUMBERS);
    view.statTimes = new BigInt64Array(buffer, count * (16 + STAT_NUMBERS * 8), count * 2);
  }
  return view;
}
