import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { KilnError } from '@kiln/errors';

const maxLinks = 40;

/**
 * The host path of `path` (absolute inside the image) under `root`, following symlinks as the
 * image would see them: an absolute target restarts at the root, `..` never climbs above it.
 * So a hostile `/usr/local -> /../../etc` in a base image cannot make a write land outside.
 * The last component is followed only with `followLast` (writing a file replaces a link).
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    if (pending.length === 0 && !followLast) {
      resolved.push(part);
      break;
    }
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch {
      // missing: the rest is created by the caller
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > maxLinks) {
      throw new KilnError('SYMLINK_LOOP', `too many symbolic links resolving ${path} in the image`);
    }
    const target = await readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...resolved);
}

/** The in-image absolute path of a host path under root (for change lists). */
export function imagePathOf(root: string, hostPath: string): string {
  const relative = hostPath.slice(root.length).split('\\').join('/');
  return relative === '' ? '/' : relative.startsWith('/') ? relative : `/${relative}`;
}
