import { type BigIntStats, lstatSync, readdirSync } from 'node:fs';
import { comparePaths } from './comparePaths.ts';
import type { IgnoreMatcher } from './ignoreRules.ts';

export interface WalkVisitor {
  /** Called in path byte order for every path under a started dir (the started dir itself excluded). */
  entry: (path: string, absPath: string, stats: BigIntStats) => void;
  skipped: (path: string, reason: 'vanished' | 'undecodable-name') => void;
  /** Asked between directories; when true the walk yields to the event loop (hash results come in). */
  shouldYield: () => boolean;
}

const S_IFMT = 0o170000n;
const S_IFDIR = 0o040000n;

/**
 * Walks a directory depth-first and emits entries in global byte order of their paths. Sorting each
 * directory by name alone is not enough: `a-b` sorts between `a` and `a/x`, so a directory's own entry
 * sorts by its name while its subtree sorts as `name/`.
 */
/** `root` has no trailing `/` (the filesystem root is `''`); `dir` is relative to it (`''` for the root). */
export async function walkTree(
  root: string,
  dir: string,
  isIgnored: IgnoreMatcher,
  visitor: WalkVisitor,
): Promise<void> {
  let sinceYield = 0;
  const visitDir = async (relDir: string, depth: number): Promise<void> => {
    // Children sit one level below relDir; deeper than any prefix rule, only globs could match.
    const checkIgnored = depth <= isIgnored.maxDepth;
    const absDir = relDir === '' ? root || '/' : `${root}/${relDir}`;
    let names: string[];
    try {
      names = readdirSync(absDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A directory removed (or replaced by a file) since its parent was listed.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    type Item = { key: string; path: string; abs: string; stats: BigIntStats; descend: boolean };
    const items: Item[] = [];
    for (const name of names) {
      const path = relDir === '' ? name : `${relDir}/${name}`;
      if (checkIgnored && isIgnored(path)) continue;
      const abs = `${absDir}/${name}`;
      const stats = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (stats === undefined) {
        visitor.skipped(path, name.includes('\uFFFD') ? 'undecodable-name' : 'vanished');
        continue;
      }
      items.push({ key: name, path, abs, stats, descend: false });
      if ((stats.mode & S_IFMT) === S_IFDIR) items.push({ key: `${name}/`, path, abs, stats, descend: true });
    }
    // Plain string order equals UTF-8 byte order unless a name has a surrogate or U+E000–U+FFFF.
    if (names.some((name) => /[\uD800-\uFFFF]/.test(name))) items.sort((a, b) => comparePaths(a.key, b.key));
    else items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const item of items) {
      if (item.descend) await visitDir(item.path, depth + 1);
      else visitor.entry(item.path, item.abs, item.stats);
    }
    sinceYield += items.length;
    if (sinceYield >= 512 && visitor.shouldYield()) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  await visitDir(dir, dir === '' ? 1 : dir.split('/').length + 1);
}
