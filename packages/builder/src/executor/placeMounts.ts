import { link, lstat, mkdir, rename, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import { copyTreeFast } from './copyTreeFast.ts';
import type { ExecMount, IgnoreRule } from './executor.ts';

/** Undoes what `placeMounts` did; safe to call once, whatever the command did meanwhile. */
export type TakeBack = () => Promise<void>;

interface Placed {
  /** Host path of the target. */
  path: string;
  mount: ExecMount;
  /** Where the target's previous entry waits (in the scratch dir), if it had one. */
  aside?: string;
  /** Parent directories this mount created, outermost first. */
  created: string[];
  /** The nearest parent that existed, with its times, restored when the mount is gone. */
  parent: { path: string; atime: number; mtime: number };
}

/**
 * RUN --mount without mount privileges (container mode): each mount's content is put at its
 * target before the command and taken away after it, and the root is left as if no mount had been
 * there. Whatever was at a target is moved aside and back; cache dirs are moved in and back
 * (renamed on one filesystem, copied across two); binds and secrets are copies, thrown away after;
 * tmpfs is an empty dir; an ssh socket is a hard link to the agent proxy. Parents made for a target
 * are removed again unless the command put something of its own there.
 */
export async function placeMounts(
  root: string,
  mounts: ExecMount[],
  scratch: string,
  reserved: IgnoreRule[],
): Promise<TakeBack> {
  const placed: Placed[] = [];
  const takeBack: TakeBack = async () => {
    let failure: unknown;
    for (const entry of placed.splice(0).reverse()) {
      try {
        await remove(entry);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure) {
      throw new KilnError('MOUNT_TAKE_BACK_FAILED', 'cannot restore the root after RUN --mount', {
        cause: failure,
      });
    }
  };
  try {
    await mkdir(scratch, { recursive: true, mode: 0o700 });
    for (const [index, mount] of mounts.entries()) {
      placed.push(await place(root, mount, join(scratch, `aside-${index}`), reserved));
    }
  } catch (error) {
    await takeBack().catch(() => undefined);
    throw error;
  }
  return takeBack;
}

async function place(root: string, mount: ExecMount, aside: string, reserved: IgnoreRule[]): Promise<Placed> {
  const target = posix.resolve('/', mount.target);
  checkReserved(target, reserved);
  // The parent as a chroot sees it (a symlinked parent stays in the root); the target itself is
  // never followed: a link there is moved aside like any entry.
  const parentPath = await resolveInRoot(root, posix.dirname(target));
  const path = join(parentPath, posix.basename(target));
  checkReserved(toImagePath(root, path), reserved);
  const created: string[] = [];
  let existing = parentPath;
  const missing: string[] = [];
  while (!(await exists(existing))) {
    missing.unshift(existing);
    existing = dirname(existing);
  }
  const info = await stat(existing, { bigint: true });
  const entry: Placed = {
    path,
    mount,
    created,
    parent: { path: existing, atime: utimesSeconds(info.atimeNs), mtime: utimesSeconds(info.mtimeNs) },
  };
  for (const dir of missing) {
    await mkdir(dir, { mode: 0o755 });
    created.push(dir);
  }
  if (await exists(path)) {
    await move(path, aside);
    entry.aside = aside;
  }
  if (mount.kind === 'tmpfs') {
    await mkdir(path, { mode: 0o755 });
  } else if (mount.kind === 'bind' && isMovedCache(mount)) {
    await move(mount.source, path);
  } else if ((await stat(mount.source)).isSocket()) {
    // A socket cannot be copied; a hard link reaches the same listener.
    await link(mount.source, path);
  } else {
    await copyTreeFast(mount.source, path);
  }
  return entry;
}

async function remove(entry: Placed): Promise<void> {
  const { mount, path } = entry;
  if (mount.kind === 'bind' && isMovedCache(mount)) {
    // What the command left at the target is the cache now; anything but a directory means it
    // deleted or replaced the cache, which then starts empty.
    const info = await lstat(path).catch(() => undefined);
    if (info?.isDirectory()) await move(path, mount.source);
    else {
      await rm(path, { recursive: true, force: true });
      await mkdir(mount.source, { recursive: true, mode: 0o755 });
    }
  } else {
    await rm(path, { recursive: true, force: true });
  }
  if (entry.aside) await move(entry.aside, path);
  for (const dir of [...entry.created].reverse()) {
    try {
      await rmdir(dir);
    } catch {
      // the command put files of its own there: they are its layer's
    }
  }
  await utimes(entry.parent.path, entry.parent.atime, entry.parent.mtime).catch(() => undefined);
}

/** A read-only cache is a throwaway copy, like a bind: what the RUN writes there is not kept. */
function isMovedCache(mount: ExecMount): boolean {
  return mount.kind === 'bind' && mount.cache !== undefined && !mount.readonly;
}

/** A rename where source and destination share a filesystem, else a copy and a removal. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await rm(to, { recursive: true, force: true });
    await copyTreeFast(from, to);
    await rm(from, { recursive: true, force: true });
  }
}

/**
 * Node's utimes takes seconds as a double, good to a few hundred nanoseconds: aim at the middle of
 * the time's microsecond, so it comes back exact to the microsecond.
 */
function utimesSeconds(ns: bigint): number {
  const second = 1_000_000_000n;
  return Number(ns / second) + Number(((ns % second) / 1000n) * 1000n + 500n) / 1e9;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Kiln's own dirs, the container's mounts and kept paths can be neither a target nor under one. */
function checkReserved(target: string, reserved: IgnoreRule[]): void {
  const hit = reserved.find(
    (rule) =>
      target === '/' ||
      target === rule.path ||
      target.startsWith(`${rule.path}/`) ||
      rule.path.startsWith(`${target}/`),
  );
  if (target === '/' || hit) {
    throw new KilnError(
      'MOUNT_TARGET_RESERVED',
      `RUN --mount target ${target} overlaps ${hit?.path ?? '/'}, which container mode keeps out of the build`,
      { hint: 'mount somewhere else, or use the sandbox executor' },
    );
  }
}

function toImagePath(root: string, path: string): string {
  const trimmed = root.replace(/\/+$/, '');
  return trimmed === '' ? path : path.slice(trimmed.length) || '/';
}
