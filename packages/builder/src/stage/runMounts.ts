import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Mount } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import spawn, { SubprocessError } from 'nano-spawn';
import { copyEntry } from '../copy/copyTree.ts';
import { relativeSourcePath } from '../copy/sourceRoot.ts';
import type { ExecMount } from '../executor/executor.ts';

export interface RunMountContext {
  /** `Dockerfile:12` */
  where: string;
  /** The RUN's workdir: relative targets resolve against it. */
  cwd: string;
  expand: (word: string) => string;
  /** Where cache mounts live (kept across builds when it lies in --cache-dir). */
  cacheMountDir: string;
  /** Scratch space for copies of read-write bind sources. */
  scratchDir: string;
  /** The tree `from=` names (a stage's root or an image's tree); undefined: the build context. */
  sourceRoot: (from: string | undefined) => Promise<string>;
  /** The context's .dockerignore (relative path, is-directory): ignored files are never bound. */
  isIgnored: (relativePath: string, isDir: boolean) => boolean;
}

/**
 * RUN --mount as BuildKit defines it, for the executor: `cache` (a persistent dir per id),
 * `bind` (context, stage or image; read-only unless rw, and then writes land in a throwaway copy),
 * `tmpfs`. Secrets and ssh need flags Kiln does not have yet and are refused.
 */
export async function resolveRunMounts(mounts: Mount[], context: RunMountContext): Promise<ExecMount[]> {
  const resolved: ExecMount[] = [];
  for (const [index, mount] of mounts.entries()) {
    if (mount.type === 'secret' || mount.type === 'ssh') {
      throw new KilnError(
        'UNSUPPORTED_MOUNT',
        `${context.where}: RUN --mount=type=${mount.type} is not supported yet`,
        {
          hint: 'Kiln has no --secret/--ssh flags yet',
        },
      );
    }
    const target = posix.resolve(context.cwd, context.expand(mount.target));
    if (mount.type === 'tmpfs') {
      resolved.push({ kind: 'tmpfs', target });
      continue;
    }
    if (mount.type === 'cache') {
      if (mount.from !== undefined || mount.source !== undefined) {
        throw new KilnError(
          'UNSUPPORTED_MOUNT',
          `${context.where}: cache mounts seeded from= a stage are not supported yet`,
        );
      }
      const id = context.expand(mount.id ?? target);
      const dir = join(context.cacheMountDir, cacheMountName(id, context.where));
      let fresh = false;
      try {
        if (!(await lstat(dir)).isDirectory()) {
          throw new KilnError(
            'CACHE_MOUNT_INVALID',
            `${context.where}: cache mount "${id}" is not a directory`,
          );
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        fresh = true;
        await mkdir(dir, { recursive: true });
      }
      if (fresh) {
        await chmod(dir, mount.mode ? Number.parseInt(context.expand(mount.mode), 8) : 0o755);
        await chown(dir, Number(mount.uid ?? 0), Number(mount.gid ?? 0));
      }
      resolved.push({ kind: 'bind', source: dir, target, readonly: mount.readonly });
      continue;
    }
    const fromContext = mount.from === undefined;
    const root = await context.sourceRoot(fromContext ? undefined : context.expand(mount.from!));
    const relative = relativeSourcePath(context.expand(mount.source ?? '/'), context.where);
    const source = await resolveInRoot(root, relative);
    // Where the source lies in its root once links are followed: what .dockerignore is matched against.
    const inRoot = source === root ? '' : source.slice(root.length + 1);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(source);
      if (fromContext && inRoot !== '' && context.isIgnored(inRoot, info.isDirectory()))
        throw new Error('ignored');
    } catch {
      throw new KilnError(
        'MOUNT_SOURCE_MISSING',
        `${context.where}: --mount source "${mount.source ?? '/'}" not found`,
        fromContext ? { hint: 'check the path and .dockerignore' } : undefined,
      );
    }
    const filtered =
      fromContext && info.isDirectory() && (await hasIgnored(source, inRoot, context.isIgnored));
    if (mount.readonly && !filtered) {
      resolved.push({ kind: 'bind', source, target, readonly: true });
      continue;
    }
    // A copy: rw binds write into a throwaway tree, never into the context or another stage, and a
    // context with ignored files is bound as BuildKit sends it, without them.
    const copy = join(context.scratchDir, `mount-${index}`);
    await mkdir(context.scratchDir, { recursive: true });
    if (fromContext) {
      await mkdir(copy, { mode: 0o755 });
      const name = info.isDirectory() ? '/' : `/${posix.basename(inRoot)}`;
      await copyEntry(
        { root: copy, ownership: {}, touched: new Set(), isExcluded: context.isIgnored },
        source,
        inRoot,
        name,
      );
      resolved.push({ kind: 'bind', source: join(copy, name), target, readonly: mount.readonly });
    } else {
      await copyTree(source, copy, context.where);
      resolved.push({ kind: 'bind', source: copy, target, readonly: mount.readonly });
    }
  }
  return resolved;
}

/**
 * The directory a cache mount id names under the cache-mount dir: a readable prefix and a hash of
 * the whole id, so any id (`/`, `..`, a long one) is one name that cannot climb or collide.
 */
export function cacheMountName(id: string, where: string): string {
  if (id.includes('\0')) {
    throw new KilnError('INVALID_MOUNT', `${where}: a cache mount id must not contain NUL`);
  }
  const readable = id
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 48);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  return `${readable || 'cache'}-${hash}`;
}

/** Whether anything under a context directory is .dockerignore'd (links are not followed). */
async function hasIgnored(
  dir: string,
  relative: string,
  isIgnored: RunMountContext['isIgnored'],
): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (isIgnored(path, entry.isDirectory())) return true;
    if (entry.isDirectory() && (await hasIgnored(join(dir, entry.name), path, isIgnored))) return true;
  }
  return false;
}

async function copyTree(source: string, destination: string, where: string): Promise<void> {
  try {
    await spawn('cp', ['-a', '--', source, destination], { stdin: 'ignore' });
  } catch (error) {
    const reason = error instanceof SubprocessError && error.stderr !== '' ? error.stderr : String(error);
    throw new KilnError('MOUNT_COPY_FAILED', `${where}: cannot copy the bind source: ${reason.trim()}`, {
      cause: error,
    });
  }
}
