import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { KilnError } from '@kiln/errors';

const maxLinks = 40;

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

export interface RootPathOptions {
  /**
   * A `..` (named or reached through a link) that would climb above the root: `clamp` stays at the
   * root as a chroot does (right for paths a Dockerfile names), `refuse` throws LAYER_UNSAFE_PATH
   * (right for layer entries, which never need to climb).
   */
  aboveRoot?: 'clamp' | 'refuse';
  /** Follow a link in the last component (default true; writing a file replaces a link instead). */
  followLast?: boolean;
  /** Every component must be a directory: missing ones are created 0755 with `create`, else refused. */
  directory?: { create: boolean };
  /** The path as the input named it, for messages (never a host path). */
  name?: string;
}

/**
 * The components (relative to `root`) of `path` resolved inside `root` as a chroot would see it:
 * symlinks are followed, an absolute target restarts at the root, `..` never leaves it. The one
 * resolver for every path Kiln reads or writes inside a stage root, a context or a layer's root.
 * A missing component ends the lookup (the rest is taken as named) unless `directory` is set.
 */
export function resolvePathInRoot(
  root: string,
  path: string | readonly string[],
  options: RootPathOptions = {},
): string[] {
  const refuse = options.aboveRoot === 'refuse';
  const followLast = options.followLast ?? true;
  const name = options.name ?? (typeof path === 'string' ? path : path.join('/'));
  // Lexical cleaning first, as BuildKit cleans a Dockerfile path; layer names are checked by the caller.
  const pending =
    typeof path === 'string'
      ? (refuse ? path : posix.normalize(`/${path}`)).split('/').filter(Boolean)
      : [...path];
  const resolved: string[] = [];
  let links = 0;
  let missing = false;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part.includes('\0')) throw pathError(refuse, name, 'NUL in the path');
    if (part === '..') {
      if (resolved.length === 0 && refuse) throw unsafe(name, 'a symlink in its path leads outside the root');
      resolved.pop();
      continue;
    }
    const last = pending.length === 0;
    if (missing || (last && !followLast && options.directory === undefined)) {
      resolved.push(part);
      continue;
    }
    const abs = posix.join(root, ...resolved, part);
    let info: ReturnType<typeof lstatSync> | undefined;
    try {
      info = lstatSync(abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    if (info === undefined) {
      if (options.directory?.create) {
        mkdirSync(abs, { mode: 0o755 });
      } else if (options.directory) {
        throw new KilnError(
          'LAYER_PATH_MISSING',
          `"${name}": ${[...resolved, part].join('/')} does not exist in the root`,
        );
      } else {
        missing = true;
      }
      resolved.push(part);
    } else if (info.isSymbolicLink()) {
      if (++links > maxLinks) throw pathError(refuse, name, 'too many symlinks in its path');
      const target = readlinkSync(abs, 'utf8');
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/'));
    } else if (options.directory && !info.isDirectory()) {
      throw new KilnError(
        'LAYER_PATH_CONFLICT',
        `"${name}": ${[...resolved, part].join('/')} is not a directory`,
      );
    } else {
      resolved.push(part);
    }
  }
  return resolved;
}

function pathError(refuse: boolean, name: string, why: string): KilnError {
  if (refuse) return unsafe(name, why);
  return new KilnError('PATH_UNRESOLVABLE', `cannot resolve "${name}" in the image: ${why}`);
}

/**
 * The host path of `path` (absolute inside the image or relative to the root) under `root`,
 * resolved as a chroot would (see `resolvePathInRoot`, `..` clamped at the root). So a hostile
 * `/usr/local -> /../../etc` in a base image, or `link -> /etc` in a context, cannot make a read or
 * a write land outside the root. The last component is followed only with `followLast`.
 */
export function resolveInRootSync(root: string, path: string, followLast = true): string {
  const parts = resolvePathInRoot(root, path, { aboveRoot: 'clamp', followLast });
  return parts.length === 0 ? root : posix.join(root, ...parts);
}

/** `resolveInRootSync` for async callers. */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  return resolveInRootSync(root, path, followLast);
}

/** The in-image absolute path of a host path under root (for change lists). */
export function imagePathOf(root: string, hostPath: string): string {
  const relative = hostPath.slice(root.length).split('\\').join('/');
  return relative === '' ? '/' : relative.startsWith('/') ? relative : `/${relative}`;
}

/**
 * Resolves directories of layer entries inside a root (`resolvePathInRoot` with `..` above the root
 * refused), caching resolved directories until something is removed.
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
    const result = resolvePathInRoot(this.root, components, {
      aboveRoot: 'refuse',
      directory: { create },
      name,
    }).join('/');
    this.#cache.set(key, result);
    return result;
  }

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }
}
