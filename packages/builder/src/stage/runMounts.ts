import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Mount } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import spawn, { SubprocessError } from 'nano-spawn';
import { relativeSourcePath } from '../copy/sourceRoot.ts';
import type { ExecMount } from '../executor/executor.ts';
import { resolveInRoot } from './resolveInRoot.ts';

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
      const dir = join(context.cacheMountDir, id.replace(/[^A-Za-z0-9_.-]/g, '_'));
      let fresh = false;
      try {
        await stat(dir);
      } catch {
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
    const root = await context.sourceRoot(mount.from === undefined ? undefined : context.expand(mount.from));
    const relative = relativeSourcePath(context.expand(mount.source ?? '/'), context.where);
    const source = await resolveInRoot(root, relative);
    try {
      await stat(source);
    } catch {
      throw new KilnError(
        'MOUNT_SOURCE_MISSING',
        `${context.where}: --mount source "${mount.source ?? '/'}" not found`,
      );
    }
    if (mount.readonly) {
      resolved.push({ kind: 'bind', source, target, readonly: true });
    } else {
      // rw binds: the command may write, but never into the context or another stage.
      const copy = join(context.scratchDir, `mount-${index}`);
      await mkdir(context.scratchDir, { recursive: true });
      await copyTree(source, copy, context.where);
      resolved.push({ kind: 'bind', source: copy, target, readonly: false });
    }
  }
  return resolved;
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
