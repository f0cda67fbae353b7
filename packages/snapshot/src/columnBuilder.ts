import { comparePaths, searchSortedPaths } from './comparePaths.ts';
import { allocateColumns, type EntryColumns, numericColumnNames, resizeColumns } from './entryColumns.ts';

/** Appends entries to growing columns; sorts them at the end only if they arrived out of order. */
export class ColumnBuilder {
  columns: EntryColumns = allocateColumns(1024);
  private inOrder = true;

  get count(): number {
    return this.columns.paths.length;
  }

  /** Reserves the next row for `path` and returns its index; the caller fills the numeric columns. */
  push(path: string): number {
    const { paths } = this.columns;
    if (this.inOrder) {
      const last = paths[paths.length - 1];
      // Cheap check first: a walk in order mostly appends after a plainly smaller string.
      if (
        last !== undefined &&
        !(last < path && !/[\uD800-\uFFFF]/.test(path)) &&
        comparePaths(last, path) >= 0
      ) {
        this.inOrder = false;
      }
    }
    if (paths.length === this.columns.types.length)
      this.columns = resizeColumns(this.columns, paths.length * 2);
    paths.push(path);
    return paths.length - 1;
  }

  /** The row of `path`, or -1: a binary search while rows are in order, else a scan. */
  indexOf(path: string): number {
    const { paths } = this.columns;
    return this.inOrder ? searchSortedPaths(paths, path) : paths.lastIndexOf(path);
  }

  /** Trimmed columns in path order, without duplicates. */
  finish(): EntryColumns {
    const trimmed = resizeColumns(this.columns, this.count);
    return this.inOrder ? trimmed : sortColumns(trimmed);
  }
}

function sortColumns(columns: EntryColumns): EntryColumns {
  const order = columns.paths
    .map((_, i) => i)
    .sort((a, b) => comparePaths(columns.paths[a]!, columns.paths[b]!));
  const kept = order.filter((index, i) => i === 0 || columns.paths[order[i - 1]!] !== columns.paths[index]);
  const sorted = allocateColumns(kept.length);
  for (const name of numericColumnNames()) {
    const from = columns[name];
    const to = sorted[name];
    // Same-kind typed arrays, indexed generically.
    const source = from as unknown as Record<number, number | bigint>;
    const target = to as unknown as Record<number, number | bigint>;
    kept.forEach((index, i) => {
      target[i] = source[index]!;
    });
  }
  kept.forEach((index, i) => {
    sorted.paths.push(columns.paths[index]!);
    const target = columns.linkTargets.get(index);
    if (target !== undefined) sorted.linkTargets.set(i, target);
    const rdev = columns.rdevs.get(index);
    if (rdev !== undefined) sorted.rdevs.set(i, rdev);
    const xattrs = columns.xattrs.get(index);
    if (xattrs !== undefined) sorted.xattrs.set(i, xattrs);
  });
  return sorted;
}
