import type { EntryColumns } from './entryColumns.ts';

/**
 * Paths as `kiln-xattr rescan` takes them: UTF-8 joined by NUL (no trailing NUL). `offsets[i]` is where
 * path i starts (`offsets[count]` = `bytes.length + 1`), when known.
 */
export interface EncodedPaths {
  bytes: Uint8Array;
  offsets?: Uint32Array;
}

/**
 * Encodings of columns' paths that exist already or can be made from another's without encoding every
 * path again: a loaded snapshot's bytes as read from its file, and a rescan's made lazily from its
 * previous snapshot's bytes (runs of unchanged rows are byte ranges). A build's next rescan then sends
 * them as they are instead of joining and encoding 230k strings per step.
 */
const known = new WeakMap<EntryColumns, EncodedPaths | (() => EncodedPaths)>();

export function rememberPathBytes(columns: EntryColumns, encoded: EncodedPaths | (() => EncodedPaths)): void {
  known.set(columns, encoded);
}

/** The columns' encoded paths: remembered, or joined now (and remembered). */
export function encodedPaths(columns: EntryColumns): EncodedPaths {
  let encoded = known.get(columns);
  if (typeof encoded === 'function') encoded = encoded();
  encoded ??= { bytes: Buffer.from(columns.paths.join('\0'), 'utf8') };
  known.set(columns, encoded);
  return encoded;
}

/** Where each path starts in `encoded` (found by scanning for NULs once, then kept). */
export function pathOffsets(encoded: EncodedPaths, count: number): Uint32Array {
  if (encoded.offsets !== undefined) return encoded.offsets;
  const offsets = new Uint32Array(count + 1);
  const bytes = Buffer.from(encoded.bytes.buffer, encoded.bytes.byteOffset, encoded.bytes.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = at;
    const nul = bytes.indexOf(0, at);
    at = nul < 0 ? bytes.length + 1 : nul + 1;
  }
  offsets[count] = bytes.length + 1;
  encoded.offsets = offsets;
  return offsets;
}

/**
 * The encoding of a rescan's rows from its previous snapshot's: `runs` are (previous start, row, count)
 * triples in row order; every other row is new, its path taken from `paths`.
 */
export function deriveEncodedPaths(
  previous: EncodedPaths,
  previousCount: number,
  runs: readonly number[],
  paths: readonly string[],
): EncodedPaths {
  const from = pathOffsets(previous, previousCount);
  const count = paths.length;
  const parts: Uint8Array[] = [];
  const offsets = new Uint32Array(count + 1);
  let at = 0;
  let row = 0;
  const addNew = (end: number) => {
    for (; row < end; row++) {
      const bytes = Buffer.from(`${paths[row]}\0`, 'utf8');
      offsets[row] = at;
      parts.push(bytes);
      at += bytes.length;
    }
  };
  for (let k = 0; k < runs.length; k += 3) {
    const start = runs[k]!;
    const first = runs[k + 1]!;
    const runCount = runs[k + 2]!;
    addNew(first);
    const begin = from[start]!;
    const end = from[start + runCount]!;
    // The run's paths with each one's NUL (the last previous path has its NUL past the bytes: added).
    const bytes = previous.bytes.subarray(begin, Math.min(end, previous.bytes.length));
    parts.push(bytes);
    if (end > previous.bytes.length) parts.push(nul);
    for (let i = 0; i < runCount; i++) offsets[first + i] = at + from[start + i]! - begin;
    at += end - begin;
    row = first + runCount;
  }
  addNew(count);
  offsets[count] = at;
  const joined = Buffer.concat(parts, at);
  // Joined by NUL without a trailing one, as everywhere else.
  return { bytes: joined.subarray(0, Math.max(0, at - 1)), offsets };
}

const nul = new Uint8Array(1);
