import { chmod, lchown, lstat, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { imagePathOf, resolveInRoot } from '../stage/resolveInRoot.ts';
import type { CopyTarget } from './copyTree.ts';

/**
 * `COPY --parents` splits a source at its first `/./` as BuildKit does: the part before is where
 * the kept path starts (the pivot), the part after is kept under the destination. Without a
 * pivot the whole path is kept.
 */
export function splitParentsPivot(source: string): { pivot: string; kept: string } {
  const at = source.indexOf('/./');
  if (at === -1) return { pivot: '', kept: source };
  return { pivot: source.slice(0, at), kept: source.slice(at + 3) };
}

/**
 * The directories between the destination and a `--parents` item (`a/b` for `a/b/c.txt`),
 * created when missing with the matching source directory's mode and owner (the copy's --chown
 * and --chmod win), as BuildKit's copier brings parent directories along an include pattern.
 */
export async function createParentDirs(
  target: CopyTarget,
  sourceRoot: string,
  pivot: string,
  kept: string,
  destination: string,
): Promise<void> {
  const parts = posix
    .dirname(kept)
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  for (let index = 0; index < parts.length; index++) {
    const below = parts.slice(0, index + 1).join('/');
    const host = await resolveInRoot(target.root, posix.join(destination, below));
    try {
      if ((await lstat(host)).isDirectory()) continue;
    } catch {
      // missing: created below
    }
    const info = await lstat(await resolveInRoot(sourceRoot, posix.join(pivot, below)));
    await mkdir(host);
    await lchown(host, target.ownership.uid ?? info.uid, target.ownership.gid ?? info.gid);
    await chmod(host, target.ownership.mode ?? info.mode & 0o7777);
    target.touched.add(imagePathOf(target.root, host));
  }
}
