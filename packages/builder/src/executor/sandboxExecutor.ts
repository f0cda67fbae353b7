import { lstat, mkdir, readlink, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { imagePathOf, resolveInRootSync } from '@kiln/layer';
import { envRecord } from './envRecord.ts';
import type {
  ExecCommand,
  ExecMount,
  ExecUser,
  Executor,
  IgnoreRule,
  RunOptions,
  StageRootRequest,
} from './executor.ts';
import { findExecutable } from './findExecutable.ts';
import { runProcess } from './runProcess.ts';
import { isStaticExecutable } from './staticBinary.ts';

export type SandboxIsolation = 'bwrap' | 'unshare';

export interface SandboxExecutorOptions {
  /** Stage roots are created under `<workDir>/roots`. */
  workDir: string;
  /** Default: bwrap when installed, else unshare + chroot. */
  isolation?: SandboxIsolation;
}

// Host files bound read-only into every RUN so name resolution works; never part of a layer.
const hostNetworkFiles = ['/etc/resolv.conf', '/etc/hosts'];

// Where the stage root is mounted when the command must drop to another user: the sandbox's own
// root is then a tmpfs holding the host's /usr, so the host's chroot(8) can set uid, gid and groups.
const nestedRoot = '/kiln/root';
// Under the sandbox's /dev (a tmpfs of bwrap's), so nothing lands in the stage root on disk.
const helperDir = '/dev/.kiln';

/**
 * Runs RUN commands in a directory-backed stage root on a host (docs/design.md, "sandbox").
 * New mount, pid, ipc and uts namespaces; host network unless `network: 'none'`.
 */
export class SandboxExecutor implements Executor {
  readonly kind = 'sandbox' as const;
  readonly concurrentStages: boolean = true;
  readonly #rootsDir: string;
  readonly #requestedIsolation: SandboxIsolation | undefined;
  #tools: Promise<SandboxTools> | undefined;

  constructor(options: SandboxExecutorOptions) {
    this.#rootsDir = join(options.workDir, 'roots');
    this.#requestedIsolation = options.isolation;
  }

  async prepareRoot(stage: StageRootRequest): Promise<string> {
    const root = join(this.#rootsDir, `${stage.index}-${stage.name.replace(/[^a-zA-Z0-9_.-]/g, '_')}`);
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true, mode: 0o755 });
    return root;
  }

  ignoredPaths(): IgnoreRule[] {
    return [
      { path: '/proc', reason: 'mount' },
      { path: '/sys', reason: 'mount' },
      { path: '/dev', reason: 'mount' },
      ...hostNetworkFiles.map((path) => ({ path, reason: 'mount' as const })),
    ];
  }

  async dispose(): Promise<void> {
    await rm(this.#rootsDir, { recursive: true, force: true });
  }

  async run(command: ExecCommand, options: RunOptions = {}): Promise<number> {
    const tools = await this.#resolveTools();
    // Targets as a chroot resolves them: bwrap and mount(8) would follow an absolute link in a
    // target's parents on the host side.
    const mounts = (command.mounts ?? []).map((mount) => ({
      ...mount,
      target: imagePathOf(command.root, resolveInRootSync(command.root, mount.target, false)),
    }));
    const created = await createMountPoints(command.root, tools.isolation, mounts);
    try {
      const resolved = { ...command, mounts };
      const spec =
        tools.isolation === 'bwrap' ? bwrapInvocation(resolved, tools) : unshareInvocation(resolved, tools);
      return await runProcess({ file: spec.file, args: spec.args, env: envRecord(command.env) }, options);
    } finally {
      await removeCreated(created);
    }
  }

  #resolveTools(): Promise<SandboxTools> {
    this.#tools ??= resolveTools(this.#requestedIsolation);
    return this.#tools;
  }
}

interface SandboxTools {
  isolation: SandboxIsolation;
  bwrap?: string;
  unshare?: string;
  chroot: string;
  /** A static busybox whose `sh` applet changes directory after chroot drops privileges. */
  staticShell?: string;
  /** Top-level host dirs/symlinks to recreate in the nested layout (merged /usr or not). */
  hostTop: { name: string; symlink?: string }[];
}

async function resolveTools(requested: SandboxIsolation | undefined): Promise<SandboxTools> {
  const [bwrap, unshare, chroot, busybox] = await Promise.all([
    findExecutable('bwrap'),
    findExecutable('unshare'),
    findExecutable('chroot'),
    findExecutable('busybox'),
  ]);
  const isolation = requested ?? (bwrap ? 'bwrap' : 'unshare');
  if (isolation === 'bwrap' && !bwrap) {
    throw new KilnError('SANDBOX_UNAVAILABLE', 'bubblewrap (bwrap) is not installed', {
      hint: 'install bubblewrap, or let Kiln fall back to unshare + chroot',
    });
  }
  if (!chroot || (isolation === 'unshare' && !unshare)) {
    throw new KilnError('SANDBOX_UNAVAILABLE', 'neither bubblewrap nor unshare + chroot is available', {
      hint: 'install bubblewrap (or util-linux and coreutils), or run in the executor image',
    });
  }
  const hostTop: SandboxTools['hostTop'] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    try {
      const info = await lstat(`/${name}`);
      if (info.isSymbolicLink()) {
        hostTop.push({ name, symlink: await readlink(`/${name}`) });
      } else if (info.isDirectory()) hostTop.push({ name });
    } catch {
      // not on this host
    }
  }
  const tools: SandboxTools = { isolation, chroot, hostTop };
  if (bwrap) tools.bwrap = bwrap;
  if (unshare) tools.unshare = unshare;
  if (busybox && (await isStaticExecutable(busybox))) tools.staticShell = busybox;
  return tools;
}

function isPlainRoot(user: ExecUser): boolean {
  return user.uid === 0 && user.gid === 0 && user.groups.every((group) => group === 0);
}

function groupList(user: ExecUser): string {
  return [...new Set([user.gid, ...user.groups])].join(',');
}

/** argv that enters the stage root after chroot(8) as the user, then changes to the workdir. */
function chrootedArgv(command: ExecCommand, tools: SandboxTools, newRoot: string, shell: string): string[] {
  const userArgs = [
    `--userspec=${command.user.uid}:${command.user.gid}`,
    `--groups=${groupList(command.user)}`,
  ];
  const argv =
    command.cwd === '/'
      ? command.argv
      : [shell, '-c', 'cd -- "$0" && exec "$@"', command.cwd, ...command.argv];
  return [tools.chroot, ...userArgs, newRoot, ...argv];
}

function bwrapInvocation(command: ExecCommand, tools: SandboxTools): { file: string; args: string[] } {
  const args = ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
  if (command.network === 'none') args.push('--unshare-net');
  if (isPlainRoot(command.user)) {
    args.push('--bind', command.root, '/', '--proc', '/proc', '--dev', '/dev');
    for (const file of hostNetworkFiles) args.push('--ro-bind-try', file, file);
    args.push(...bwrapMountArgs(command.mounts ?? [], ''));
    args.push('--chdir', command.cwd, '--', ...command.argv);
    return { file: tools.bwrap!, args };
  }
  // Dropping to a user needs a helper bwrap cannot provide as root (its --uid wants a user
  // namespace, which would map every file to root): chroot(8) from the host's /usr does it.
  args.push('--ro-bind', '/usr', '/usr');
  for (const top of tools.hostTop) {
    if (top.symlink) args.push('--symlink', top.symlink, `/${top.name}`);
    else args.push('--ro-bind', `/${top.name}`, `/${top.name}`);
  }
  args.push('--bind', command.root, nestedRoot, '--proc', `${nestedRoot}/proc`, '--dev', `${nestedRoot}/dev`);
  for (const file of hostNetworkFiles) args.push('--ro-bind-try', file, `${nestedRoot}${file}`);
  args.push(...bwrapMountArgs(command.mounts ?? [], nestedRoot));
  let shell = '/bin/sh';
  if (tools.staticShell) {
    // bwrap creates missing parents 0700, which the dropped user could not traverse.
    args.push('--perms', '0755', '--dir', `${nestedRoot}${helperDir}`);
    args.push('--ro-bind', tools.staticShell, `${nestedRoot}${helperDir}/sh`);
    shell = `${helperDir}/sh`;
  }
  args.push('--chdir', '/', '--', ...chrootedArgv(command, tools, nestedRoot, shell));
  return { file: tools.bwrap!, args };
}

function bwrapMountArgs(mounts: ExecMount[], prefix: string): string[] {
  const args: string[] = [];
  for (const mount of mounts) {
    if (mount.kind === 'tmpfs') args.push('--tmpfs', `${prefix}${mount.target}`);
    else args.push(mount.readonly ? '--ro-bind' : '--bind', mount.source, `${prefix}${mount.target}`);
  }
  return args;
}

/** Shell lines (for the unshare fallback) mounting each RUN --mount under "$r". */
function unshareMountLines(mounts: ExecMount[]): string {
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  return mounts
    .map((mount) => {
      const target = `"$r"${quote(mount.target)}`;
      if (mount.kind === 'tmpfs') return `mount -t tmpfs tmpfs ${target}`;
      const bind = `mount --bind ${quote(mount.source)} ${target}`;
      return mount.readonly ? `${bind}; mount -o remount,bind,ro ${target}` : bind;
    })
    .join('\n');
}

// The fallback: the same namespaces via unshare(1); a host shell mounts /proc, a minimal /dev and
// the network files inside the new mount namespace, then chroot(8) enters the root as the user.
const unshareScript = `set -e
r=$1; shift
mount -t proc proc "$r/proc"
mount -t tmpfs -o mode=755,nosuid tmpfs "$r/dev"
for d in null zero full random urandom tty; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
ln -s /proc/self/fd "$r/dev/fd"
for f in ${hostNetworkFiles.join(' ')}; do
  if [ -f "$f" ] && [ -f "$r$f" ] && [ ! -L "$r$f" ]; then mount --bind "$f" "$r$f"; mount -o remount,bind,ro "$r$f"; fi
done
if [ -n "$KILN_HELPER" ]; then mkdir -p "$r/dev/.kiln"; touch "$r/dev/.kiln/sh"; mount --bind "$KILN_HELPER" "$r/dev/.kiln/sh"; fi
exec "$@"`;

function unshareInvocation(command: ExecCommand, tools: SandboxTools): { file: string; args: string[] } {
  const args = ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--ipc', '--uts'];
  if (command.network === 'none') args.push('--net');
  const shell = tools.staticShell ? `${helperDir}/sh` : '/bin/sh';
  const inner = chrootedArgv(command, tools, command.root, shell);
  // The helper's path travels in argv, not env: env is exactly the command's.
  const helper = tools.staticShell ? `KILN_HELPER='${tools.staticShell}'\n` : '';
  const mounts = unshareMountLines(command.mounts ?? []);
  // Mounts go before the final `exec` line of the script.
  const script = `${helper}${unshareScript.replace(/\nexec "\$@"$/, `\n${mounts}\nexec "$@"`)}`;
  args.push('--', '/bin/sh', '-c', script, 'kiln-sandbox', command.root, ...inner);
  return { file: tools.unshare!, args };
}

/**
 * bwrap and mount need mount points in the root: create the ones the image lacks and remember
 * them, so they are removed afterwards and never reach a layer or the next stage.
 */
async function createMountPoints(
  root: string,
  isolation: SandboxIsolation,
  mounts: ExecMount[],
): Promise<string[]> {
  const created: string[] = [];
  const ensure = async (relative: string, kind: 'dir' | 'file') => {
    // As a chroot sees it: a link the image made in a target's parents stays inside the root.
    const path = resolveInRootSync(root, relative, false);
    try {
      await lstat(path);
      return;
    } catch {
      // missing: create it, and the parents a link led to
    }
    const parents: string[] = [];
    for (let dir = dirname(path); dir.startsWith(`${root}/`); dir = dirname(dir)) {
      try {
        await lstat(dir);
        break;
      } catch {
        parents.unshift(dir);
      }
    }
    for (const dir of parents) {
      await mkdir(dir, { mode: 0o755 });
      created.push(dir);
    }
    if (kind === 'dir') await mkdir(path, { mode: 0o755 });
    else await writeFile(path, '', { mode: 0o644 });
    created.push(path);
  };
  await ensure('proc', 'dir');
  await ensure('dev', 'dir');
  if (isolation === 'bwrap') {
    await ensure('etc', 'dir');
    for (const file of hostNetworkFiles) {
      // bwrap would create these itself; doing it here makes the cleanup exact.
      try {
        await lstat(file);
        await ensure(file.slice(1), 'file');
      } catch {
        // the host has none: nothing to bind
      }
    }
  }
  for (const mount of mounts) {
    const parts = mount.target.split('/').filter(Boolean);
    for (const [index, _part] of parts.entries()) {
      const last = index === parts.length - 1;
      const isFile = last && mount.kind === 'bind' && !(await stat(mount.source)).isDirectory();
      await ensure(parts.slice(0, index + 1).join('/'), isFile ? 'file' : 'dir');
    }
  }
  return created;
}

async function removeCreated(created: string[]): Promise<void> {
  for (const path of created.reverse()) {
    try {
      const info = await lstat(path);
      if (info.isDirectory()) await rmdir(path);
      else if (info.size === 0) await rm(path);
    } catch {
      // the command replaced or filled it: then it is the command's, keep it
    }
  }
}
