import { comparePaths, searchSortedPaths } from './comparePaths.ts';
import { allocateColumns, type EntryColumns, numericColumnNames, resizeColumns } from './entryColumns.ts';

/**
 * Appends entries to growing columns; sorts them at the end only if they arrived out of order, and
 * leaves out rows dropped after they were pushed.
 */
export class ColumnBuilder {
  columns: EntryColumns = allocateColumns(1024);
  private inOrder = true;
  private readonly dropped = new Set<number>();

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

  /**
   * Appends rows `start … start + count − 1` of `from` (a rescan's unchanged run, after every row pushed
   * so far in path order): numeric columns copied in one go. The sparse fields are not copied here (see
   * takeSnapshot's keptRuns). Returns the index of the first new row.
   */
  pushRows(from: EntryColumns, start: number, count: number): number {
    const first = this.count;
    if (first + count > this.columns.types.length)
      this.columns = resizeColumns(this.columns, Math.max(first + count, first * 2));
    const { paths } = this.columns;
    const source = from.paths;
    for (let i = start; i < start + count; i++) paths.push(source[i]!);
    for (const name of numericColumnNames()) {
      // biome-ignore lint/suspicious/noExplicitAny: every column is a typed array of its own kind
      (this.columns[name] as any).set((from[name] as any).subarray(start, start + count), first);
    }
    return first;
  }

  /** The row of `path`, or -1: a binary search while rows are in order, else a scan. */
  indexOf(path: string): number {
    const { paths } = this.columns;
    return this.inOrder ? searchSortedPaths(paths, path) : paths.lastIndexOf(path);
  }

  /** Leaves row `i` out of the result (an entry found gone once its stat came back). */
  drop(i: number): void {
    this.dropped.add(i);
  }

  /** Trimmed columns in path order, without duplicates or dropped rows. */
  /** Rows stay where they were pushed: in order, none dropped. */
  get plain(): boolean {
    return this.inOrder && this.dropped.size === 0;
  }

  /** Room for `rows` rows in all (a rescan knows about how many: the previous snapshot's). */
  reserve(rows: number): void {
    if (rows > this.columns.types.length) this.columns = resizeColumns(this.columns, rows);
  }

  finish(): EntryColumns {
    // Nearly full (a reserved rescan): views of the rows, not another copy of every column.
    const slack = this.columns.types.length - this.count;
    const trimmed =
      slack <= 4096 && slack * 8 <= this.count
        ? viewColumns(this.columns, this.count)
        : resizeColumns(this.columns, this.count);
    if (this.inOrder && this.dropped.size === 0) return trimmed;
    const { paths } = trimmed;
    const rows = paths.map((_, i) => i).filter((i) => !this.dropped.has(i));
    if (!this.inOrder) {
      rows.sort((a, b) => comparePaths(paths[a]!, paths[b]!));
      return pickRows(
        trimmed,
        rows.filter((row, i) => i === 0 || paths[rows[i - 1]!] !== paths[row]),
      );
    }
    return pickRows(trimmed, rows);
  }
}

/** The first `count` rows of every column as views (the rest of each buffer stays allocated, unused). */
function viewColumns(columns: EntryColumns, count: number): EntryColumns {
  const viewed = { ...columns };
  for (const name of numericColumnNames()) {
    // biome-ignore lint/suspicious/noExplicitAny: every column is a typed array of its own kind
    (viewed as any)[name] = (columns[name] as any).subarray(0, count);
  }
  return viewed;
}

/** New columns holding the given rows, in that order. */
function pickRows(columns: EntryColumns, kept: number[]): EntryColumns {
  const picked = allocateColumns(kept.length);
  for (const name of numericColumnNames()) {
    const from = columns[name];
    const to = picked[name];
    // Same-kind typed arrays, indexed generically.
    const source = from as unknown as Record<number, number | bigint>;
    const target = to as unknown as Record<number, number | bigint>;
    kept.forEach((index, i) => {
      target[i] = source[index]!;
    });
  }
  kept.forEach((index, i) => {
    picked.paths.push(columns.paths[index]!);
    const target = columns.linkTargets.get(index);
    if (target !== undefined) picked.linkTargets.set(i, target);
    const rdev = columns.rdevs.get(index);
    if (rdev !== undefined) picked.rdevs.set(i, rdev);
    const xattrs = columns.xattrs.get(index);
    if (xattrs !== undefined) picked.xattrs.set(i, xattrs);
  });
  return picked;
}
