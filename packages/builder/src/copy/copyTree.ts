import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  rm,
  rmdir,
  stat,
  symlink,
} from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { imagePathOf, resolveInRoot } from '@kiln/layer';

export interface CopyOwnership {
  /** Owner to set; undefined keeps the source's (COPY --from without --chown). */
  uid?: number;
  gid?: number;
  /** --chmod: applied to files and directories alike, as BuildKit does. */
  mode?: number;
}

export interface CopyTarget {
  root: string;
  ownership: CopyOwnership;
  /** In-image paths created or replaced, for the change set. */
  touched: Set<string>;
  /**
   * Relative-to-source-root path → skip (dockerignore, --exclude). With `whenEmpty`, for a
   * directory already walked: whether to drop it if nothing below it was kept.
   */
  isExcluded: (relativePath: string, isDir: boolean, whenEmpty?: boolean) => boolean;
  /** Stops the copy between entries (a build interrupted by a signal). */
  signal?: AbortSignal;
}

/** Creates an in-image dir and its missing parents (0755, the copy's owner); returns the host path. */
export async function ensureImageDir(target: CopyTarget, imageDir: string): Promise<string> {
  const parts = posix.normalize(imageDir).split('/').filter(Boolean);
  let current = '/';
  let host = target.root;
  for (const part of parts) {
    current = posix.join(current, part);
    host = await resolveInRoot(target.root, current);
    let exists = false;
    try {
      exists = (await stat(host)).isDirectory();
      if (!exists) await rm(host, { force: true });
    } catch {
      // missing
    }
    if (!exists) {
      // A link may name a directory several levels from anything that exists: make them all.
      const missing = [host];
      for (let parent = dirname(host); parent.length > target.root.length; parent = dirname(parent)) {
        if (await isDirectory(parent)) break;
        missing.unshift(parent);
      }
      for (const dir of missing) {
        await mkdir(dir, { mode: 0o755 });
        await chmod(dir, 0o755);
        // Missing parents get the --chown owner too, as BuildKit and buildah create them.
        if (target.ownership.uid !== undefined)
          await lchown(dir, target.ownership.uid, target.ownership.gid ?? 0);
        target.touched.add(imagePathOf(target.root, dir));
      }
    }
  }
  return host;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Copies one source (file, symlink or directory tree) to an in-image destination path.
 * Directories copy their contents; the destination's parents are created as needed.
 */
export async function copyEntry(
  target: CopyTarget,
  sourcePath: string,
  relativeSource: string,
  destination: string,
  top = true,
): Promise<void> {
  target.signal?.throwIfAborted();
  const info = await lstat(sourcePath);
  if (info.isDirectory()) {
    let existed = false;
    try {
      existed = (await stat(await resolveInRoot(target.root, destination))).isDirectory();
    } catch {
      // created below
    }
    const hostDir = await ensureImageDir(target, destination);
    // An existing top destination keeps its own mode and owner (COPY dir /app after WORKDIR
    // /app); directories below it take the source's, as BuildKit's copier does.
    if (!existed || !top) await applyDirMetadata(target, hostDir, info);
    const names = (await readdir(sourcePath)).sort();
    for (const name of names) {
      const relative = relativeSource === '' ? name : `${relativeSource}/${name}`;
      const childInfo = await lstat(join(sourcePath, name));
      if (target.isExcluded(relative, childInfo.isDirectory())) continue;
      await copyEntry(target, join(sourcePath, name), relative, posix.join(destination, name), false);
    }
    // Walked only because an ignore exception might reach into it: dropped when nothing below it
    // was kept, as BuildKit sends such a directory only along with a child.
    if (!existed && !top && target.isExcluded(relativeSource, true, true)) {
      if ((await readdir(hostDir)).length === 0) {
        await rmdir(hostDir);
        target.touched.delete(imagePathOf(target.root, hostDir));
      }
    }
    return;
  }
  await ensureImageDir(target, posix.dirname(destination));
  const host = await resolveInRoot(target.root, destination, false);
  try {
    const existing = await lstat(host);
    await rm(host, { recursive: existing.isDirectory(), force: true });
  } catch {
    // nothing there yet
  }
  if (info.isSymbolicLink()) {
    const linkTarget = await readlink(sourcePath);
    await symlink(linkTarget, host);
    await lchown(host, target.ownership.uid ?? info.uid, target.ownership.gid ?? info.gid);
    await lutimes(host, info.atime, info.mtime);
  } else if (info.isFile()) {
    await copyFile(sourcePath, host);
    await lchown(host, target.ownership.uid ?? info.uid, target.ownership.gid ?? info.gid);
    await chmod(host, target.ownership.mode ?? info.mode & 0o7777);
    await lutimes(host, info.atime, info.mtime);
  } else {
    // Sockets, devices and fifos have no place in a build context; Docker skips them too.
    return;
  }
  target.touched.add(imagePathOf(target.root, host));
}

async function applyDirMetadata(
  target: CopyTarget,
  hostDir: string,
  info: Awaited<ReturnType<typeof lstat>>,
) {
  await lchown(hostDir, target.ownership.uid ?? Number(info.uid), target.ownership.gid ?? Number(info.gid));
  await chmod(hostDir, target.ownership.mode ?? Number(info.mode) & 0o7777);
  target.touched.add(imagePathOf(target.root, hostDir));
}

/**
 * Folds a source (walked exactly as `copyEntry` copies it, exclusions applied) into the step's
 * content hash: names, modes, link targets and file content. Computed before copying, so a layer
 * cache can answer before any file is written.
 */
export async function hashEntry(
  hash: Hash,
  sourcePath: string,
  relativeSource: string,
  isExcluded: CopyTarget['isExcluded'],
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const info = await lstat(sourcePath);
  hash.update(`${relativeSource}\0${info.mode}\0`);
  if (info.isDirectory()) {
    for (const name of (await readdir(sourcePath)).sort()) {
      const relative = relativeSource === '' ? name : `${relativeSource}/${name}`;
      const childInfo = await lstat(join(sourcePath, name));
      if (isExcluded(relative, childInfo.isDirectory())) continue;
      await hashEntry(hash, join(sourcePath, name), relative, isExcluded, signal);
    }
  } else if (info.isSymbolicLink()) {
    hash.update(`link:${await readlink(sourcePath)}\0`);
  } else if (info.isFile()) {
    hash.update(await sha256File(sourcePath, signal));
  }
}

async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
