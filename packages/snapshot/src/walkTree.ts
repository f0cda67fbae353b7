import { comparePaths } from './comparePaths.ts';
import type { IgnoreMatcher } from './ignoreRules.ts';
import {
  type DirectoryListing,
  type EntryStat,
  entryStatAt,
  listDirectory,
  listingError,
} from './listDirectory.ts';

export interface WalkVisitor {
  /** Called in path byte order for every path under a started dir (the started dir itself excluded). */
  entry: (path: string, stat: EntryStat) => void;
  skipped: (path: string, reason: 'vanished' | 'undecodable-name') => void;
  /** Asked between directories; when true the walk yields to the event loop (hash results come in). */
  shouldYield: () => boolean;
}

export interface WalkOptions {
  /** Regular files come out `deferred` (not lstat'ed): see listDirectory. */
  deferFiles?: boolean;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
/**
 * Walks a directory depth-first and emits entries in global byte order of their paths. Sorting each
 * directory by name alone is not enough: `a-b` sorts between `a` and `a/x`, so a directory's own entry
 * sorts by its name while its subtree sorts as `name/`.
 *
 * `root` has no trailing `/` (the filesystem root is `''`); `dir` is relative to it (`''` for the root).
 */
export async function walkTree(
  root: string,
  dir: string,
  isIgnored: IgnoreMatcher,
  visitor: WalkVisitor,
  options: WalkOptions = {},
): Promise<void> {
  let sinceYield = 0;
  const absOf = (relDir: string) => (relDir === '' ? root || '/' : `${root}/${relDir}`);

  const visitDir = async (relDir: string, depth: number): Promise<void> => {
    // Children sit one level below relDir; deeper than any prefix rule, only globs could match.
    const checkIgnored = depth <= isIgnored.maxDepth;
    const absDir = absOf(relDir);
    const listing: DirectoryListing = listDirectory(absDir, options.deferFiles);
    if (listing.failure !== undefined) throw listingError(listing.failure);
    if (listing.missing) return;
    type Item = { key: string; path: string; index: number; descend: boolean };
    const items: Item[] = [];
    const { names } = listing;
    for (let index = 0; index < names.length; index++) {
      const name = names[index]!;
      const path = relDir === '' ? name : `${relDir}/${name}`;
      if (checkIgnored && isIgnored(path)) continue;
      items.push({ key: name, path, index, descend: false });
      if ((listing.numbers[index * 8]! & S_IFMT) === S_IFDIR)
        items.push({ key: `${name}/`, path, index, descend: true });
    }
    for (const name of listing.vanished) {
      const path = relDir === '' ? name : `${relDir}/${name}`;
      if (checkIgnored && isIgnored(path)) continue;
      visitor.skipped(path, name.includes('\uFFFD') ? 'undecodable-name' : 'vanished');
    }
    // Plain string order equals UTF-8 byte order unless a name has a surrogate or U+E000–U+FFFF.
    if (names.some((name) => /[\uD800-\uFFFF]/.test(name))) items.sort((a, b) => comparePaths(a.key, b.key));
    else items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const item of items) {
      if (item.descend) await visitDir(item.path, depth + 1);
      else visitor.entry(item.path, entryStatAt(listing, item.index));
    }
    sinceYield += items.length;
    // Let hash batches that wait run between directories.
    if (sinceYield >= 512 && visitor.shouldYield()) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  await visitDir(dir, dir === '' ? 1 : dir.split('/').length + 1);
}
