import { searchSortedPaths } from './comparePaths.ts';
import { allocateColumns, type EntryColumns, entryAt, setEntryAt } from './entryColumns.ts';
import type { Entry, Snapshot, SnapshotStats, SnapshotStrategyName } from './types.ts';

/** A Snapshot over column storage; entries are built on demand, so holding one costs only the columns. */
export class CompactSnapshot implements Snapshot {
  readonly root: string;
  readonly strategy: SnapshotStrategyName;
  readonly hashed: boolean;
  readonly stats: SnapshotStats;
  readonly columns: EntryColumns;

  constructor(
    root: string,
    strategy: SnapshotStrategyName,
    hashed: boolean,
    columns: EntryColumns,
    stats: SnapshotStats,
  ) {
    this.root = root;
    this.strategy = strategy;
    this.hashed = hashed;
    this.columns = columns;
    this.stats = stats;
  }

  get size(): number {
    // The columns are trimmed to their rows; paths may still be bytes (see pathEncoding.ts).
    return this.columns.types.length;
  }

  path(index: number): string {
    const path = this.columns.paths[index];
    if (path === undefined) throw new RangeError(`no entry ${index} in a snapshot of ${this.size}`);
    return path;
  }

  entry(index: number): Entry {
    this.path(index);
    return entryAt(this.columns, index);
  }

  indexOf(path: string): number {
    return searchSortedPaths(this.columns.paths, path);
  }

  get(path: string): Entry | undefined {
    const index = this.indexOf(path);
    return index < 0 ? undefined : entryAt(this.columns, index);
  }

  *[Symbol.iterator](): Iterator<Entry> {
    for (let i = 0; i < this.size; i++) yield entryAt(this.columns, i);
  }
}

/** The columns of any Snapshot: free for CompactSnapshot, one copy for other implementations. */
export function snapshotColumns(snapshot: Snapshot): EntryColumns {
  if (snapshot instanceof CompactSnapshot) return snapshot.columns;
  const columns = allocateColumns(snapshot.size);
  let i = 0;
  for (const entry of snapshot) {
    columns.paths.push(entry.path);
    setEntryAt(columns, i++, entry);
  }
  return columns;
}
