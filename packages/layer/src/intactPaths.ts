import { lstatSync } from 'node:fs';

/**
 * Re-checks paths an extraction recorded earlier, before acting on them at its end (xattrs, directory
 * times, the list of written paths): a later entry may have replaced a parent with a symlink, and
 * the kernel would follow it out of the root. Answers are cached, so build one per finishing pass.
 */
export class IntactPaths {
  readonly #root: string;
  readonly #dirs = new Map<string, boolean>();

  constructor(root: string) {
    this.#root = root;
  }

  /** `rel` ('' is the root) and every directory above it are directories, none a symlink. */
  isRealDir(rel: string): boolean {
    if (rel === '') return true;
    const known = this.#dirs.get(rel);
    if (known !== undefined) return known;
    const slash = rel.lastIndexOf('/');
    const ok =
      this.isRealDir(slash === -1 ? '' : rel.slice(0, slash)) &&
      lstatSync(`${this.#root}/${rel}`, { throwIfNoEntry: false })?.isDirectory() === true;
    this.#dirs.set(rel, ok);
    return ok;
  }

  /** Something is at `rel` (not followed) and every directory above it is real. */
  exists(rel: string): boolean {
    const slash = rel.lastIndexOf('/');
    return (
      this.isRealDir(slash === -1 ? '' : rel.slice(0, slash)) &&
      lstatSync(`${this.#root}/${rel}`, { throwIfNoEntry: false }) !== undefined
    );
  }
}
