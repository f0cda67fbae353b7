import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { CacheMount, Mount, SecretMount, SshMount } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import { copyEntry } from '../copy/copyTree.ts';
import { relativeSourcePath } from '../copy/sourceRoot.ts';
import { copyTreeFast } from '../executor/copyTreeFast.ts';
import type { ExecMount } from '../executor/executor.ts';
import type { BuildSecrets } from '../secrets/buildSecrets.ts';
import { requiredMountError } from '../secrets/checkRequiredMounts.ts';
import { secretMountId, sshMountId } from '../secrets/mountIds.ts';
import { startAgentProxy } from '../secrets/sshAgentProxy.ts';
import { lockCacheMount } from './cacheMountLock.ts';

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
  /** `--secret` and `--ssh`; absent: the build was given none. */
  secrets?: BuildSecrets;
  /**
   * Cache dirs are moved into place (container mode), so one can serve one RUN at a time:
   * `shared` then waits like `locked`. Binds (sandbox) let shared caches be used at once.
   */
  exclusiveCaches?: boolean;
  signal?: AbortSignal;
}

/** What a RUN's mounts resolved to; `release` removes secret copies and agent sockets after the RUN. */
export interface ResolvedMounts {
  mounts: ExecMount[];
  /** `KEY=value` entries the mounts add (secrets with `env=`, `SSH_AUTH_SOCK`). */
  env: string[];
  release: () => Promise<void>;
  /** How many ssh mounts came before (their default targets are numbered). */
  sshMounts: number;
}

/**
 * RUN --mount as BuildKit defines it, for the executor: `cache` (a persistent dir per id),
 * `bind` (context, stage or image; read-only unless rw, and then writes land in a throwaway copy),
 * `tmpfs`, `secret` (a file outside the root, bound read-only, and/or an env var) and `ssh` (a
 * socket forwarding to the build's agent). On failure, whatever was already set up is released.
 */
export async function resolveRunMounts(mounts: Mount[], context: RunMountContext): Promise<ResolvedMounts> {
  const resolved: ResolvedMounts = { mounts: [], env: [], release: async () => undefined, sshMounts: 0 };
  const releases: (() => Promise<void>)[] = [];
  resolved.release = async () => {
    for (const release of releases.splice(0).reverse()) await release();
  };
  try {
    for (const [index, mount] of mounts.entries()) {
      await resolveMount(mount, index, context, resolved, releases);
    }
  } catch (error) {
    await resolved.release();
    throw error;
  }
  return resolved;
}

async function resolveMount(
  mount: Mount,
  index: number,
  context: RunMountContext,
  resolvedMounts: ResolvedMounts,
  releases: (() => Promise<void>)[],
): Promise<void> {
  const resolved = resolvedMounts.mounts;
  if (mount.type === 'secret') {
    await resolveSecret(mount, index, context, resolvedMounts, releases);
    return;
  }
  if (mount.type === 'ssh') {
    await resolveSsh(mount, index, context, resolvedMounts, releases);
    return;
  }
  {
    const target = posix.resolve(context.cwd, context.expand(mount.target));
    if (mount.type === 'tmpfs') {
      resolved.push({ kind: 'tmpfs', target });
      return;
    }
    if (mount.type === 'cache') {
      const id = context.expand(mount.id ?? target);
      const cacheDir = join(context.cacheMountDir, cacheMountName(id, context.where));
      let fresh = false;
      try {
        if (!(await lstat(cacheDir)).isDirectory()) {
          throw new KilnError(
            'CACHE_MOUNT_INVALID',
            `${context.where}: cache mount "${id}" is not a directory`,
          );
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        fresh = true;
      }
      if (fresh) await createCacheDir(mount, cacheDir, index, context);
      const dir = await lockedCacheDir(mount.sharing, cacheDir, index, context, releases);
      resolved.push({ kind: 'bind', source: dir, target, readonly: mount.readonly, cache: mount.sharing });
      return;
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
      return;
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
}

/**
 * A new cache dir: empty, or (BuildKit's `from=`/`source=`) a copy of a directory of a stage, an
 * image or the context, made once, when the cache is created.
 */
/**
 * Creates a cache mount's directory, seeded from `from=`/`source=` when given; false when a
 * concurrent build made it first (then it is that build's, as it made it). An empty one is one
 * atomic mkdir; a seeded one is filled beside its final name and renamed into place, so no build
 * sees it half-filled.
 */
async function createCacheDir(
  mount: CacheMount,
  cacheDir: string,
  index: number,
  context: RunMountContext,
): Promise<boolean> {
  await mkdir(join(cacheDir, '..'), { recursive: true });
  const seeded = mount.from !== undefined || mount.source !== undefined;
  const building = seeded ? `${cacheDir}.new-${process.pid}-${index}-${Date.now()}` : cacheDir;
  try {
    await seedCache(mount, building, context);
  } catch (error) {
    if (!seeded && (error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  await chmod(building, mount.mode ? Number.parseInt(context.expand(mount.mode), 8) : 0o755);
  await chown(building, Number(mount.uid ?? 0), Number(mount.gid ?? 0));
  if (!seeded) return true;
  try {
    await rename(building, cacheDir);
    return true;
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (
      (error as NodeJS.ErrnoException).code === 'ENOTEMPTY' ||
      (error as NodeJS.ErrnoException).code === 'EEXIST'
    )
      return false;
    throw error;
  }
}

async function seedCache(mount: CacheMount, cacheDir: string, context: RunMountContext): Promise<void> {
  if (mount.from === undefined && mount.source === undefined) {
    await mkdir(cacheDir);
    return;
  }
  const fromContext = mount.from === undefined;
  const root = await context.sourceRoot(fromContext ? undefined : context.expand(mount.from!));
  const relative = relativeSourcePath(context.expand(mount.source ?? '/'), context.where);
  const source = await resolveInRoot(root, relative);
  const info = await stat(source).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new KilnError(
      'MOUNT_SOURCE_MISSING',
      `${context.where}: cache mount source "${mount.source ?? '/'}" is not a directory`,
    );
  }
  if (fromContext) {
    // The context as BuildKit sends it: without .dockerignore'd files.
    const inRoot = source === root ? '' : source.slice(root.length + 1);
    await mkdir(cacheDir);
    await copyEntry(
      { root: cacheDir, ownership: {}, touched: new Set(), isExcluded: context.isIgnored },
      source,
      inRoot,
      '/',
    );
  } else {
    await copyTree(source, cacheDir, context.where);
  }
}

/**
 * `locked` (and `shared` where caches are exclusive) waits for the cache; `private` takes it when
 * free, else a fresh throwaway dir (BuildKit makes a new instance for a second writer too).
 */
async function lockedCacheDir(
  sharing: 'shared' | 'private' | 'locked',
  dir: string,
  index: number,
  context: RunMountContext,
  releases: (() => Promise<void>)[],
): Promise<string> {
  if (sharing === 'shared' && !context.exclusiveCaches) return dir;
  const release = await lockCacheMount(dir, sharing !== 'private', context.signal);
  if (release) {
    releases.push(release);
    return dir;
  }
  const fresh = join(context.scratchDir, `cache-${index}`);
  await mkdir(fresh, { recursive: true });
  const info = await stat(dir);
  await chmod(fresh, info.mode & 0o7777);
  await chown(fresh, info.uid, info.gid);
  releases.push(() => rm(fresh, { recursive: true, force: true }));
  return fresh;
}

/** The numeric mode/uid/gid options of a secret or ssh mount, expanded. */
function ownership(
  mount: { mode?: string; uid?: string; gid?: string },
  defaultMode: number,
  context: RunMountContext,
): { mode: number; uid: number; gid: number } {
  const number = (value: string | undefined, base: number, fallback: number, key: string) => {
    if (value === undefined) return fallback;
    const text = context.expand(value);
    const parsed = Number.parseInt(text, base);
    if (!/^\d+$/.test(text) || Number.isNaN(parsed) || (base === 8 && /[89]/.test(text))) {
      throw new KilnError('INVALID_MOUNT', `${context.where}: invalid value ${text} for ${key}`);
    }
    return parsed;
  };
  return {
    mode: number(mount.mode, 8, defaultMode, 'mode') & 0o7777,
    uid: number(mount.uid, 10, 0, 'uid'),
    gid: number(mount.gid, 10, 0, 'gid'),
  };
}

/**
 * A secret as BuildKit mounts it: a file at the target (default `/run/secrets/<id>` unless only
 * `env=` is asked for), mode 0400 root-owned unless told otherwise, and/or an env var. The copy the
 * command sees lives in the scratch dir, outside the root, and is deleted after the RUN.
 */
async function resolveSecret(
  mount: SecretMount,
  index: number,
  context: RunMountContext,
  resolved: ResolvedMounts,
  releases: (() => Promise<void>)[],
): Promise<void> {
  const expanded: SecretMount = {
    ...mount,
    ...(mount.id === undefined ? {} : { id: context.expand(mount.id) }),
    ...(mount.target === undefined ? {} : { target: context.expand(mount.target) }),
  };
  const id = secretMountId(expanded);
  if (id === undefined) {
    throw new KilnError('INVALID_MOUNT', `${context.where}: a secret mount needs id= or target=`);
  }
  const value = await context.secrets?.read(id, context.where);
  if (value === undefined) {
    if (mount.required) throw requiredMountError('secret', id, context.where);
    return;
  }
  if (mount.env !== undefined) {
    const name = context.expand(mount.env);
    resolved.env.push(`${name}=${value.toString('utf8')}`);
  }
  const wantsFile = expanded.target !== undefined || mount.env === undefined;
  if (!wantsFile) return;
  const target = posix.resolve(context.cwd, expanded.target ?? `/run/secrets/${posix.basename(id)}`);
  const { mode, uid, gid } = ownership(mount, 0o400, context);
  await mkdir(context.scratchDir, { recursive: true, mode: 0o700 });
  const file = join(context.scratchDir, `secret-${index}`);
  releases.push(() => rm(file, { force: true }));
  await writeFile(file, value, { mode: 0o600 });
  await chown(file, uid, gid);
  await chmod(file, mode);
  resolved.mounts.push({ kind: 'bind', source: file, target, readonly: true });
}

/**
 * An ssh mount: a socket (default `/run/buildkit/ssh_agent.<n>`, mode 0600) that forwards each
 * connection to the build's agent, with `SSH_AUTH_SOCK` naming it.
 */
async function resolveSsh(
  mount: SshMount,
  index: number,
  context: RunMountContext,
  resolved: ResolvedMounts,
  releases: (() => Promise<void>)[],
): Promise<void> {
  const id = sshMountId({ ...mount, ...(mount.id === undefined ? {} : { id: context.expand(mount.id) }) });
  const upstream = context.secrets?.sshSocket(id);
  if (upstream === undefined) {
    if (mount.required) throw requiredMountError('ssh', id, context.where);
    return;
  }
  const sshIndex = resolved.sshMounts++;
  const target = posix.resolve(
    context.cwd,
    mount.target === undefined ? `/run/buildkit/ssh_agent.${sshIndex}` : context.expand(mount.target),
  );
  const { mode, uid, gid } = ownership(mount, 0o600, context);
  await mkdir(context.scratchDir, { recursive: true, mode: 0o700 });
  const socket = join(context.scratchDir, `ssh-${index}.sock`);
  const proxy = await startAgentProxy(socket, upstream);
  releases.push(() => proxy.close());
  await chown(socket, uid, gid);
  await chmod(socket, mode);
  resolved.mounts.push({ kind: 'bind', source: socket, target, readonly: false });
  // BuildKit sets SSH_AUTH_SOCK for the first ssh mount only when none is set by an earlier one.
  if (sshIndex === 0) resolved.env.push(`SSH_AUTH_SOCK=${target}`);
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

/** A tree copied as `cp -a` would, in process: container mode's image has no `cp`. */
async function copyTree(source: string, destination: string, where: string): Promise<void> {
  try {
    await copyTreeFast(source, destination);
  } catch (error) {
    throw new KilnError('MOUNT_COPY_FAILED', `${where}: cannot copy the mount source`, { cause: error });
  }
}
