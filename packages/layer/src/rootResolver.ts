import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { KilnError } from '@kiln/errors';

function unsafe(name: string, why: string): KilnError {
  return new KilnError('LAYER_UNSAFE_PATH', `layer entry "${name}" refused: ${why}`, {
    hint: 'the layer tries to write outside the root it is extracted into; it may be malicious',
  });
}

/**
 * Splits an archive path into components, refusing absolute paths and `..`
 * (a layer never needs either; both are how tarballs escape).
 */
export function archivePathComponents(name: string): string[] {
  if (name.startsWith('/')) throw unsafe(name, 'absolute path');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw unsafe(name, '".." in the path');
    if (part.includes('\0')) throw unsafe(name, 'NUL in the path');
    parts.push(part);
  }
  return parts;
}

/**
 * Resolves directories inside a root as if the root were `/` (what a chroot would see): a symlink
 * in a parent is followed, an absolute target restarts at the root, and a `..` that would climb
 * above the root is refused. Resolved directories are cached until something is removed.
 */
export class RootResolver {
  readonly root: string;
  readonly #cache = new Map<string, string>();

  constructor(root: string) {
    this.root = root;
  }

  /** Forget resolutions, after a removal may have changed what a path is. */
  invalidate(): void {
    this.#cache.clear();
  }

  /** Records a directory created at a resolved path, so children resolve without lstat. */
  remember(archiveDir: string, resolved: string): void {
    this.#cache.set(archiveDir, resolved);
  }

  /**
   * The resolved relative path ('' for the root) of the directory `components` name, creating missing
   * directories (0755, as Docker does) when `create` is set.
   */
  resolveDir(name: string, components: string[], create: boolean): string {
    const key = components.join('/');
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const resolved: string[] = [];
    const pending = [...components];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (resolved.length === 0) throw unsafe(name, 'a symlink in its path leads outside the root');
        resolved.pop();
        continue;
      }
      const rel = resolved.length === 0 ? part : `${resolved.join('/')}/${part}`;
      const abs = `${this.root}/${rel}`;
      let st: ReturnType<typeof lstatSync> | undefined;
      try {
        st = lstatSync(abs);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (st === undefined) {
        if (!create)
          throw new KilnError('LAYER_PATH_MISSING', `"${name}": ${rel} does not exist in the root`);
        mkdirSync(abs, { mode: 0o755 });
        resolved.push(part);
      } else if (st.isSymbolicLink()) {
        if (++hops > 40) throw unsafe(name, 'too many symlinks in its path');
        const target = readlinkSync(abs, 'utf8');
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...target.split('/'));
      } else if (st.isDirectory()) {
        resolved.push(part);
      } else {
        throw new KilnError('LAYER_PATH_CONFLICT', `"${name}": ${rel} is not a directory`);
      }
    }
    const result = resolved.join('/');
    this.#cache.set(key, result);
    return result;
  }

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }
}
