/**
 * What the main thread and the hash workers exchange. A task is a batch of absolute paths (one task
 * per file costs ~10× more in messaging); the result is one transferable ArrayBuffer laid out as
 * `count` xxh64 values, `count` byte counts, then `count` status bytes.
 */
export interface HashTask {
  paths: string[];
}

/** A batch of directories (absolute paths) to list and lstat; the answer is one DirectoryListing each. */
export interface ListTask {
  dirs: string[];
}

export const HASH_OK = 0;
/** The file disappeared between the walk and the read. */
export const HASH_VANISHED = 1;
export const HASH_FAILED = 2;

export interface HashResultView {
  hashes: BigUint64Array;
  bytes: Float64Array;
  status: Uint8Array;
}

export function allocateHashResult(count: number): { buffer: ArrayBuffer; view: HashResultView } {
  const buffer = new ArrayBuffer(count * 17);
  return { buffer, view: viewHashResult(buffer, count) };
}

export function viewHashResult(buffer: ArrayBuffer, count: number): HashResultView {
  return {
    hashes: new BigUint64Array(buffer, 0, count),
    bytes: new Float64Array(buffer, count * 8, count),
    status: new Uint8Array(buffer, count * 16, count),
  };
}
