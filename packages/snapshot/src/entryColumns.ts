import type { Entry, EntryType } from './types.ts';

export const entryTypes: readonly EntryType[] = ['file', 'dir', 'symlink', 'char', 'block', 'fifo'];
export const typeCode: Record<EntryType, number> = {
  file: 0,
  dir: 1,
  symlink: 2,
  char: 3,
  block: 4,
  fifo: 5,
};

/**
 * The column-wise store behind a Snapshot: one typed array per numeric field and sparse maps for the
 * rare fields, about 90 bytes per entry plus the path string (a Map of objects would be ~5× that).
 */
export interface EntryColumns {
  paths: string[];
  types: Uint8Array;
  modes: Uint16Array;
  uids: Uint32Array;
  gids: Uint32Array;
  sizes: Float64Array;
  mtimes: BigInt64Array;
  ctimes: BigInt64Array;
  devs: Float64Array;
  inos: Float64Array;
  nlinks: Uint32Array;
  hashes: BigUint64Array;
  /** 1 when `hashes[i]` holds a content hash. */
  hashed: Uint8Array;
  linkTargets: Map<number, string>;
  rdevs: Map<number, number>;
  xattrs: Map<number, Record<string, Uint8Array>>;
}

export function allocateColumns(capacity: number): EntryColumns {
  return {
    paths: [],
    types: new Uint8Array(capacity),
    modes: new Uint16Array(capacity),
    uids: new Uint32Array(capacity),
    gids: new Uint32Array(capacity),
    sizes: new Float64Array(capacity),
    mtimes: new BigInt64Array(capacity),
    ctimes: new BigInt64Array(capacity),
    devs: new Float64Array(capacity),
    inos: new Float64Array(capacity),
    nlinks: new Uint32Array(capacity),
    hashes: new BigUint64Array(capacity),
    hashed: new Uint8Array(capacity),
    linkTargets: new Map(),
    rdevs: new Map(),
    xattrs: new Map(),
  };
}

type NumericColumn = Exclude<keyof EntryColumns, 'paths' | 'linkTargets' | 'rdevs' | 'xattrs'>;
const numericColumns: NumericColumn[] = [
  'types',
  'modes',
  'uids',
  'gids',
  'sizes',
  'mtimes',
  'ctimes',
  'devs',
  'inos',
  'nlinks',
  'hashes',
  'hashed',
];

/** Copies into arrays of a new capacity (growing while walking, trimming when done). */
export function resizeColumns(columns: EntryColumns, capacity: number): EntryColumns {
  const next = allocateColumns(capacity);
  const count = Math.min(columns.paths.length, capacity);
  for (const name of numericColumns) {
    const source = columns[name];
    // biome-ignore lint/suspicious/noExplicitAny: every column is a typed array of its own kind
    (next[name] as any).set((source as any).subarray(0, count));
  }
  next.paths = columns.paths;
  next.linkTargets = columns.linkTargets;
  next.rdevs = columns.rdevs;
  next.xattrs = columns.xattrs;
  return next;
}

export function numericColumnNames(): readonly NumericColumn[] {
  return numericColumns;
}

export function hashToHex(hash: bigint): string {
  return hash.toString(16).padStart(16, '0');
}

export function entryAt(columns: EntryColumns, i: number): Entry {
  const entry: Entry = {
    path: columns.paths[i]!,
    type: entryTypes[columns.types[i]!]!,
    mode: columns.modes[i]!,
    uid: columns.uids[i]!,
    gid: columns.gids[i]!,
    size: columns.sizes[i]!,
    mtimeNs: columns.mtimes[i]!,
    ctimeNs: columns.ctimes[i]!,
    dev: columns.devs[i]!,
    ino: columns.inos[i]!,
    nlink: columns.nlinks[i]!,
  };
  const linkTarget = columns.linkTargets.get(i);
  if (linkTarget !== undefined) entry.linkTarget = linkTarget;
  const rdev = columns.rdevs.get(i);
  if (rdev !== undefined) entry.rdev = rdev;
  const xattrs = columns.xattrs.get(i);
  if (xattrs !== undefined) entry.xattrs = xattrs;
  if (columns.hashed[i] === 1) entry.hash = hashToHex(columns.hashes[i]!);
  return entry;
}

/** Fills row `i` from an Entry (snapshots that were not built by a walk, e.g. a builder's own). */
export function setEntryAt(columns: EntryColumns, i: number, entry: Entry): void {
  columns.types[i] = typeCode[entry.type];
  columns.modes[i] = entry.mode;
  columns.uids[i] = entry.uid;
  columns.gids[i] = entry.gid;
  columns.sizes[i] = entry.size;
  columns.mtimes[i] = entry.mtimeNs;
  columns.ctimes[i] = entry.ctimeNs;
  columns.devs[i] = entry.dev;
  columns.inos[i] = entry.ino;
  columns.nlinks[i] = entry.nlink;
  if (entry.linkTarget !== undefined) columns.linkTargets.set(i, entry.linkTarget);
  if (entry.rdev !== undefined) columns.rdevs.set(i, entry.rdev);
  if (entry.xattrs !== undefined) columns.xattrs.set(i, entry.xattrs);
  if (entry.hash !== undefined) {
    columns.hashes[i] = BigInt(`0x${entry.hash}`);
    columns.hashed[i] = 1;
  }
}
