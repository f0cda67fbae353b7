import { snapshotColumns } from './compactSnapshot.ts';
import { comparePaths } from './comparePaths.ts';
import { type EntryColumns, entryAt, typeCode } from './entryColumns.ts';
import type { Change, ChangeReason, ChangeSet, Snapshot } from './types.ts';

const FILE = typeCode.file;
const DIR = typeCode.dir;

/**
 * What changed from `before` to `after`, by a merge walk over both sorted snapshots.
 * When both snapshots hashed content, regular files compare by hash and timestamps/inodes are ignored
 * (a `touch` is no change, a chmod is); otherwise size, mtime, ctime and inode count too.
 * A deleted directory is one deletion; a directory that lost all its previous children (two or more)
 * becomes an opaque dir instead of one whiteout per child.
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): ChangeSet {
  const a = snapshotColumns(before);
  const b = snapshotColumns(after);
  // A rescan that found nothing changed shares the previous columns (see takeSnapshot): nothing to compare.
  if (a === b) return { changes: [], opaqueDirs: [] };
  const byContent = before.hashed && after.hashed;
  const linksBefore = hardlinkLeaders(a);
  const linksAfter = hardlinkLeaders(b);
  const changes: Change[] = [];
  // Directories whose previous subtree is accounted for by one change (deleted, or replaced by a non-dir).
  const gone = new Set<string>();
  const deletedChildren = new Map<string, number>();
  const bothDirs = new Map<string, number>();

  const recordDeleted = (path: string, isDir: boolean) => {
    if (underAny(gone, path)) return;
    if (isDir) gone.add(path);
    changes.push({ path, kind: 'deleted' });
    const parent = parentOf(path);
    deletedChildren.set(parent, (deletedChildren.get(parent) ?? 0) + 1);
  };

  const wa = wordViews(a);
  const wb = wordViews(b);
  let i = 0;
  let j = 0;
  while (i < a.paths.length || j < b.paths.length) {
    const pa = a.paths[i];
    const pb = b.paths[j];
    // A rescan's unchanged rows hold the previous snapshot's own strings: equal without a char loop.
    const order = pa === undefined ? 1 : pb === undefined ? -1 : pa === pb ? 0 : comparePaths(pa, pb);
    if (order < 0) {
      recordDeleted(pa!, a.types[i] === DIR);
      i++;
    } else if (order > 0) {
      changes.push({ path: pb!, kind: 'added', entry: entryAt(b, j) });
      j++;
    } else {
      const linkBefore = linksBefore.get(i);
      const linkAfter = linksAfter.get(j);
      // Most rows of a rescan are unchanged: found so without allocating (a quarter of a million arrays).
      const reasons =
        linkBefore === linkAfter && sameRow(a, wa, i, b, wb, j)
          ? noReasons
          : compareEntries(a, i, b, j, byContent, linkBefore, linkAfter);
      if (reasons.includes('type') && a.types[i] === DIR) gone.add(pa!);
      if (a.types[i] === DIR && b.types[j] === DIR) bothDirs.set(pa!, j);
      if (reasons.length > 0) changes.push({ path: pb!, kind: 'modified', entry: entryAt(b, j), reasons });
      i++;
      j++;
    }
  }
  return withOpaqueDirs(changes, a, b, deletedChildren, bothDirs);
}

const noReasons: ChangeReason[] = [];

interface WordViews {
  mtimes: Int32Array;
  ctimes: Int32Array;
  hashes: Int32Array;
}

/** 32-bit views of the 64-bit columns: comparing through them allocates no BigInts. */
function wordViews(columns: EntryColumns): WordViews {
  const view = (array: BigInt64Array | BigUint64Array) =>
    new Int32Array(array.buffer, array.byteOffset, array.length * 2);
  return { mtimes: view(columns.mtimes), ctimes: view(columns.ctimes), hashes: view(columns.hashes) };
}

/**
 * Every field the same (xattrs the same object, as a rescan carries them over): then compareEntries
 * would find nothing. Stricter than it, never looser, so a false answer only costs the full comparison.
 */
function sameRow(
  a: EntryColumns,
  wa: WordViews,
  i: number,
  b: EntryColumns,
  wb: WordViews,
  j: number,
): boolean {
  return (
    a.types[i] === b.types[j] &&
    a.modes[i] === b.modes[j] &&
    a.uids[i] === b.uids[j] &&
    a.gids[i] === b.gids[j] &&
    a.sizes[i] === b.sizes[j] &&
    a.inos[i] === b.inos[j] &&
    a.devs[i] === b.devs[j] &&
    a.hashed[i] === b.hashed[j] &&
    wa.mtimes[2 * i] === wb.mtimes[2 * j] &&
    wa.mtimes[2 * i + 1] === wb.mtimes[2 * j + 1] &&
    wa.ctimes[2 * i] === wb.ctimes[2 * j] &&
    wa.ctimes[2 * i + 1] === wb.ctimes[2 * j + 1] &&
    wa.hashes[2 * i] === wb.hashes[2 * j] &&
    wa.hashes[2 * i + 1] === wb.hashes[2 * j + 1] &&
    a.linkTargets.get(i) === b.linkTargets.get(j) &&
    a.rdevs.get(i) === b.rdevs.get(j) &&
    a.xattrs.get(i) === b.xattrs.get(j)
  );
}

function compareEntries(
  a: EntryColumns,
  i: number,
  b: EntryColumns,
  j: number,
  byContent: boolean,
  linkBefore: string | undefined,
  linkAfter: string | undefined,
): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  const type = a.types[i];
  if (type !== b.types[j]) return ['type'];
  const hashedBoth = byContent && type === FILE && a.hashed[i] === 1 && b.hashed[j] === 1;
  if (hashedBoth && a.hashes[i] !== b.hashes[j]) reasons.push('content');
  if (type === FILE && a.sizes[i] !== b.sizes[j]) reasons.push('size');
  if (a.modes[i] !== b.modes[j]) reasons.push('mode');
  if (a.uids[i] !== b.uids[j] || a.gids[i] !== b.gids[j]) reasons.push('owner');
  if (a.linkTargets.get(i) !== b.linkTargets.get(j)) reasons.push('linkTarget');
  if (a.rdevs.get(i) !== b.rdevs.get(j) && !reasons.includes('content')) reasons.push('content');
  if (!sameXattrs(a.xattrs.get(i), b.xattrs.get(j))) reasons.push('xattrs');
  if (linkBefore !== linkAfter) reasons.push('hardlink');
  // Timestamps and inodes matter only where no content hash speaks for the entry.
  if (!byContent || (type === FILE && !hashedBoth)) {
    if (a.mtimes[i] !== b.mtimes[j]) reasons.push('mtime');
    if (a.ctimes[i] !== b.ctimes[j]) reasons.push('ctime');
    if (a.inos[i] !== b.inos[j] || a.devs[i] !== b.devs[j]) reasons.push('inode');
  }
  return reasons;
}

/** For entries in a hardlink group of two or more within the snapshot: the group's first path. */
function hardlinkLeaders(columns: EntryColumns): Map<number, string> {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < columns.paths.length; i++) {
    if (columns.nlinks[i]! < 2 || columns.types[i] === DIR) continue;
    const key = `${columns.devs[i]}:${columns.inos[i]}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [i]);
    else group.push(i);
  }
  const leaders = new Map<number, string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const leader = columns.paths[group[0]!]!;
    for (const index of group) leaders.set(index, leader);
  }
  return leaders;
}

function withOpaqueDirs(
  changes: Change[],
  a: EntryColumns,
  b: EntryColumns,
  deletedChildren: Map<string, number>,
  bothDirs: Map<string, number>,
): ChangeSet {
  const candidates = [...deletedChildren].filter(([dir, count]) => count >= 2 && bothDirs.has(dir));
  if (candidates.length === 0) return { changes, opaqueDirs: [] };
  const childCount = new Map<string, number>(candidates.map(([dir]) => [dir, 0]));
  for (const path of a.paths) {
    const parent = parentOf(path);
    const count = childCount.get(parent);
    if (count !== undefined) childCount.set(parent, count + 1);
  }
  const opaque = new Set(
    candidates.filter(([dir, deleted]) => childCount.get(dir) === deleted).map(([dir]) => dir),
  );
  if (opaque.size === 0) return { changes, opaqueDirs: [] };
  const kept = changes.filter((change) => !(change.kind === 'deleted' && opaque.has(parentOf(change.path))));
  const listed = new Set(kept.map((change) => change.path));
  for (const dir of opaque) {
    // The layer needs the dir's own header to carry the opaque marker; its listing changed.
    if (!listed.has(dir))
      kept.push({ path: dir, kind: 'modified', entry: entryAt(b, bothDirs.get(dir)!), reasons: ['content'] });
  }
  kept.sort((x, y) => comparePaths(x.path, y.path));
  return { changes: kept, opaqueDirs: [...opaque].sort(comparePaths) };
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

function underAny(dirs: Set<string>, path: string): boolean {
  if (dirs.size === 0) return false;
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    if (dirs.has(path.slice(0, slash))) return true;
  }
  return false;
}

function sameXattrs(
  x: Record<string, Uint8Array> | undefined,
  y: Record<string, Uint8Array> | undefined,
): boolean {
  if (x === y) return true;
  const xk = x === undefined ? [] : Object.keys(x);
  const yk = y === undefined ? [] : Object.keys(y);
  if (xk.length !== yk.length) return false;
  for (const key of xk) {
    const u = x![key]!;
    const v = y?.[key];
    if (v === undefined || u.length !== v.length || !u.every((byte, n) => byte === v[n])) return false;
  }
  return true;
}
