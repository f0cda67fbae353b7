import { lstat, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imagePathOf, resolveInRoot } from '../stage/resolveInRoot.ts';
import type { ExecMount } from './executor.ts';

/** Host files bound read-only into every RUN so name resolution works; never part of a layer. */
export const hostNetworkFiles = ['/etc/resolv.conf', '/etc/hosts'];

/** A host file bound read-only at `target`, an in-image path with no symlink in it. */
export interface NetworkFile {
  /** `/etc/resolv.conf` or `/etc/hosts`. */
  name: string;
  host: string;
  target: string;
}

export interface MountPoints {
  /** Host paths created for this command, parents first. */
  created: string[];
  /** The command's mounts with each target resolved inside the root (no symlink left in it). */
  mounts: ExecMount[];
  networkFiles: NetworkFile[];
  /** Where /proc and /dev are mounted (resolved like the rest). */
  proc: string;
  dev: string;
}

/**
 * bwrap and mount need mount points in the root: create the ones the image lacks and remember
 * them, so they are removed afterwards and never reach a layer or the next stage. Every target
 * is resolved inside the root as a chroot would see it, and the mounts use that resolved path:
 * a symlink left in the root by an earlier step (`/x -> /etc`) never makes Kiln, bwrap or mount
 * create, remove or cover anything on the host.
 */
export async function createMountPoints(
  root: string,
  isolation: 'bwrap' | 'unshare',
  mounts: ExecMount[],
): Promise<MountPoints> {
  const created: string[] = [];
  /** Resolves `path` inside the root, creating what is missing; returns the in-image path. */
  const ensure = async (path: string, kind: 'dir' | 'file'): Promise<string> => {
    const resolved = await resolveInRoot(root, path);
    const parts = imagePathOf(root, resolved).split('/').filter(Boolean);
    for (const [index, part] of parts.entries()) {
      const host = join(root, ...parts.slice(0, index), part);
      try {
        await lstat(host);
        continue;
      } catch {
        // missing: create it (and so everything below it is ours and link-free)
      }
      if (kind === 'file' && index === parts.length - 1)
        await writeFile(host, '', { mode: 0o644, flag: 'wx' });
      else await mkdir(host, { mode: 0o755 });
      created.push(host);
    }
    return imagePathOf(root, resolved);
  };
  const proc = await ensure('/proc', 'dir');
  const dev = await ensure('/dev', 'dir');
  const networkFiles: NetworkFile[] = [];
  for (const file of hostNetworkFiles) {
    try {
      if (!(await stat(file)).isFile()) continue;
    } catch {
      continue; // the host has none: nothing to bind
    }
    // The fallback binds only over files the image has, as before; bwrap creates them.
    if (isolation === 'unshare') {
      const resolved = await resolveInRoot(root, file);
      try {
        if (!(await lstat(resolved)).isFile()) continue;
      } catch {
        continue;
      }
    }
    networkFiles.push({ name: file, host: file, target: await ensure(file, 'file') });
  }
  const placed: ExecMount[] = [];
  for (const mount of mounts) {
    const isFile = mount.kind === 'bind' && !(await stat(mount.source)).isDirectory();
    const target = await ensure(mount.target, isFile ? 'file' : 'dir');
    placed.push({ ...mount, target });
  }
  return { created, mounts: placed, networkFiles, proc, dev };
}

/**
 * Removes the mount points this run created, newest first, and only where the path still resolves
 * inside the root to itself: a RUN that swapped a created directory's parent for a symlink cannot
 * steer the removal onto the host.
 */
export async function removeCreated(root: string, created: string[]): Promise<void> {
  for (const path of [...created].reverse()) {
    try {
      if ((await resolveInRoot(root, imagePathOf(root, path), false)) !== path) continue;
      const info = await lstat(path);
      if (info.isDirectory()) await rmdir(path);
      else if (info.isFile() && info.size === 0) await rm(path);
    } catch {
      // the command replaced or filled it: then it is the command's, keep it
    }
  }
}
