import type { ChildProcess } from 'node:child_process';
import { lstat, mkdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import { readChildPid, waitForLoopback } from './bwrapInfo.ts';
import { bwrapCapabilityArgs, dockerDefaultCapabilityMask } from './capabilities.ts';
import { envRecord } from './envRecord.ts';
import type {
  BuildNetwork,
  ExecCommand,
  ExecMount,
  ExecUser,
  Executor,
  IgnoreRule,
  RunOptions,
  StageRootRequest,
} from './executor.ts';
import { findExecutable } from './findExecutable.ts';
import {
  createMountPoints,
  hostNetworkFiles,
  type MountPoints,
  type NetworkFile,
  removeCreated,
} from './mountPoints.ts';
import { bwrapProcMaskArgs, findProcMasks, type ProcMasks, unshareProcMaskLines } from './procMasks.ts';
import { runProcess } from './runProcess.ts';
import { encodeBpf, runSeccompProgram } from './seccomp/bpfProgram.ts';
import { isStaticExecutable } from './staticBinary.ts';
import {
  findUserNetworkTool,
  startUserNetwork,
  type UserNetwork,
  type UserNetworkTool,
  userNetworkResolvConf,
  userNetworkUnavailable,
} from './userNetwork.ts';

export type SandboxIsolation = 'bwrap' | 'unshare';

export interface SandboxExecutorOptions {
  /** Stage roots are created under `<workDir>/roots`. */
  workDir: string;
  /** Default: bwrap when installed, else unshare + chroot. */
  isolation?: SandboxIsolation;
  /**
   * The static `kiln-sandbox-exec` (drops the capability bounding set; the whole confinement in
   * the unshare fallback). Default: `$KILN_SANDBOX_EXEC`, else `kiln-sandbox-exec` on PATH;
   * `null`: act as if there were none.
   */
  sandboxExec?: string | null;
  /** What RUN gets unless it says `--network=`; default `host`. */
  network?: BuildNetwork;
  /** For `network: 'sandbox'`; default slirp4netns on PATH. */
  networkTool?: UserNetworkTool;
}

/** The network one command runs with. */
type CommandNetwork = BuildNetwork;

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
  readonly #sandboxExec: string | null | undefined;
  readonly #network: BuildNetwork;
  readonly #workDir: string;
  #networkTool: Promise<UserNetworkTool | undefined> | undefined;
  #sandboxResolvConf: Promise<string> | undefined;
  #tools: Promise<SandboxTools> | undefined;

  constructor(options: SandboxExecutorOptions) {
    this.#rootsDir = join(options.workDir, 'roots');
    this.#requestedIsolation = options.isolation;
    this.#sandboxExec = options.sandboxExec;
    this.#network = options.network ?? 'host';
    this.#workDir = options.workDir;
    if (options.networkTool) this.#networkTool = Promise.resolve(options.networkTool);
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
    if (tools.isolation === 'unshare' && !tools.sandboxExec && command.security !== 'insecure') {
      // unshare(1) and chroot(8) alone leave RUN every capability and no seccomp filter.
      throw new KilnError(
        'SANDBOX_UNAVAILABLE',
        'RUN needs bubblewrap, or the kiln-sandbox-exec helper for the unshare + chroot fallback, to drop capabilities and filter syscalls',
        { hint: 'install bubblewrap, or build kiln-sandbox-exec (scripts/bootstrap.sh) and put it on PATH' },
      );
    }
    const network: CommandNetwork = command.network === 'default' ? this.#network : command.network;
    let networkTool: UserNetworkTool | undefined;
    if (network === 'sandbox') {
      if (tools.isolation !== 'bwrap') {
        throw new KilnError('NETWORK_UNSUPPORTED', '--network sandbox needs bubblewrap (bwrap)', {
          hint: 'install bubblewrap, or use --network host|none',
        });
      }
      networkTool = await this.#userNetworkTool();
      if (!networkTool) throw userNetworkUnavailable();
    }
    const points = await createMountPoints(command.root, tools.isolation, command.mounts ?? []);
    try {
      if (networkTool) {
        // The host's resolver may sit on its loopback, out of reach: RUN asks the stack's forwarder.
        const resolvConf = await this.#resolvConfFor(networkTool);
        for (const file of points.networkFiles) if (file.name === '/etc/resolv.conf') file.host = resolvConf;
      }
      const placed = { ...command, mounts: points.mounts };
      const spec =
        tools.isolation === 'bwrap'
          ? bwrapInvocation(placed, tools, points, network)
          : unshareInvocation(placed, tools, points, network);
      if (!networkTool) {
        return await runProcess(
          {
            file: spec.file,
            args: spec.args,
            env: envRecord(command.env),
            ...(spec.fd3Input ? { fd3Input: spec.fd3Input } : {}),
          },
          options,
        );
      }
      return await this.#runWithUserNetwork(spec, envRecord(command.env), networkTool, options);
    } finally {
      await removeCreated(command.root, points.created);
    }
  }

  /**
   * bwrap reports its sandbox's pid on fd 4 and waits on fd 5 before it execs the command: the
   * user-mode stack is attached to that network namespace in between, so RUN starts online.
   */
  async #runWithUserNetwork(
    spec: Invocation,
    env: Record<string, string>,
    tool: UserNetworkTool,
    options: RunOptions,
  ): Promise<number> {
    let network: UserNetwork | undefined;
    let failure: unknown;
    const attach = async (child: ChildProcess) => {
      const info = child.stdio[4 as number] as Readable;
      info.on('error', () => {});
      const pid = await readChildPid(info);
      await waitForLoopback(pid);
      network = await startUserNetwork(tool, pid);
      const block = child.stdio[5 as number] as Writable;
      block.on('error', () => {});
      block.end('go');
    };
    try {
      const code = await runProcess(
        {
          file: spec.file,
          args: spec.args,
          env,
          ...(spec.fd3Input ? { fd3Input: spec.fd3Input } : {}),
          extraPipes: 2,
          onSpawn: (child) => {
            attach(child).catch((error: unknown) => {
              failure = error;
              if (child.pid !== undefined) {
                try {
                  process.kill(-child.pid, 'SIGKILL');
                } catch {
                  // already gone
                }
              }
            });
          },
        },
        options,
      );
      if (failure) throw failure;
      return code;
    } finally {
      await network?.stop();
    }
  }

  #userNetworkTool(): Promise<UserNetworkTool | undefined> {
    this.#networkTool ??= findUserNetworkTool();
    return this.#networkTool;
  }

  #resolvConfFor(tool: UserNetworkTool): Promise<string> {
    this.#sandboxResolvConf ??= (async () => {
      const path = join(this.#workDir, `resolv.conf.${tool.kind}`);
      await writeFile(path, userNetworkResolvConf(tool), { mode: 0o644 });
      return path;
    })();
    return this.#sandboxResolvConf;
  }

  #resolveTools(): Promise<SandboxTools> {
    this.#tools ??= resolveTools(this.#requestedIsolation, this.#sandboxExec);
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
  /** The static kiln-sandbox-exec. */
  sandboxExec?: string;
  procMasks: ProcMasks;
}

async function resolveTools(
  requested: SandboxIsolation | undefined,
  sandboxExecOption: string | null | undefined,
): Promise<SandboxTools> {
  const [bwrap, unshare, chroot, busybox, sandboxExec] = await Promise.all([
    findExecutable('bwrap'),
    findExecutable('unshare'),
    findExecutable('chroot'),
    findExecutable('busybox'),
    sandboxExecOption === null
      ? undefined
      : (sandboxExecOption ?? process.env.KILN_SANDBOX_EXEC ?? findExecutable('kiln-sandbox-exec')),
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
  const tools: SandboxTools = { isolation, chroot, hostTop, procMasks: await findProcMasks() };
  if (bwrap) tools.bwrap = bwrap;
  if (unshare) tools.unshare = unshare;
  if (busybox && (await isStaticExecutable(busybox))) tools.staticShell = busybox;
  if (sandboxExec && (await isStaticExecutable(sandboxExec))) tools.sandboxExec = sandboxExec;
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

interface Invocation {
  file: string;
  args: string[];
  /** The seccomp program, read by the sandbox from fd 3. */
  fd3Input?: Buffer;
}

// Generated once: the program is the same for every RUN.
let seccompBytes: Buffer | undefined;
function runSeccompBytes(): Buffer {
  seccompBytes ??= encodeBpf(runSeccompProgram());
  return seccompBytes;
}

/** kiln-sandbox-exec's argv prefix: `seccompFd` when it installs the filter itself. */
function sandboxExecArgv(path: string, seccompFd?: number): string[] {
  const mask = dockerDefaultCapabilityMask.toString(16);
  return [
    path,
    '--caps',
    mask,
    ...(seccompFd === undefined ? [] : ['--seccomp-fd', String(seccompFd)]),
    '--',
  ];
}

function bwrapInvocation(
  command: ExecCommand,
  tools: SandboxTools,
  points: MountPoints,
  network: CommandNetwork,
): Invocation {
  const { networkFiles, proc, dev } = points;
  const args = ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
  if (network !== 'host') args.push('--unshare-net');
  if (network === 'sandbox') args.push('--info-fd', '4', '--block-fd', '5');
  // bwrap always sets no_new_privs; as real root it keeps every capability unless told, and it
  // never narrows the bounding set: kiln-sandbox-exec does that, when it is there.
  const confined = command.security !== 'insecure';
  if (confined) args.push(...bwrapCapabilityArgs(), '--seccomp', '3');
  const fd3 = confined ? { fd3Input: runSeccompBytes() } : {};
  const helperArgs = (prefix: string): string[] => {
    if (!confined || !tools.sandboxExec) return [];
    // Under the sandbox's /dev (a tmpfs of bwrap's), so nothing lands in the stage root on disk;
    // bwrap creates missing parents 0700, which a dropped user could not traverse.
    args.push('--perms', '0755', '--dir', `${prefix}${helperDir}`);
    args.push('--ro-bind', tools.sandboxExec, `${prefix}${helperDir}/exec`);
    return sandboxExecArgv(`${helperDir}/exec`);
  };
  if (isPlainRoot(command.user)) {
    args.push('--bind', command.root, '/', '--proc', proc, ...bwrapProcMaskArgs(tools.procMasks, proc));
    args.push('--dev', dev);
    for (const file of networkFiles) args.push('--ro-bind', file.host, file.target);
    args.push(...bwrapMountArgs(command.mounts ?? [], ''));
    const helper = helperArgs('');
    args.push('--chdir', command.cwd, '--', ...helper, ...command.argv);
    return { file: tools.bwrap!, args, ...fd3 };
  }
  // Dropping to a user needs a helper bwrap cannot provide as root (its --uid wants a user
  // namespace, which would map every file to root): chroot(8) from the host's /usr does it.
  args.push('--ro-bind', '/usr', '/usr');
  for (const top of tools.hostTop) {
    if (top.symlink) args.push('--symlink', top.symlink, `/${top.name}`);
    else args.push('--ro-bind', `/${top.name}`, `/${top.name}`);
  }
  args.push(
    '--bind',
    command.root,
    nestedRoot,
    '--proc',
    `${nestedRoot}${proc}`,
    ...bwrapProcMaskArgs(tools.procMasks, `${nestedRoot}${proc}`),
    '--dev',
    `${nestedRoot}${dev}`,
  );
  for (const file of networkFiles) args.push('--ro-bind', file.host, `${nestedRoot}${file.target}`);
  args.push(...bwrapMountArgs(command.mounts ?? [], nestedRoot));
  // The helper runs before chroot(8), from the sandbox's own /dev; chroot's setuid then clears
  // what capabilities are left.
  const helper = helperArgs('');
  let shell = '/bin/sh';
  if (tools.staticShell) {
    args.push('--perms', '0755', '--dir', `${nestedRoot}${helperDir}`);
    args.push('--ro-bind', tools.staticShell, `${nestedRoot}${helperDir}/sh`);
    shell = `${helperDir}/sh`;
  }
  args.push('--chdir', '/', '--', ...helper, ...chrootedArgv(command, tools, nestedRoot, shell));
  return { file: tools.bwrap!, args, ...fd3 };
}

function bwrapMountArgs(mounts: ExecMount[], prefix: string): string[] {
  const args: string[] = [];
  for (const mount of mounts) {
    if (mount.kind === 'tmpfs') args.push('--tmpfs', `${prefix}${mount.target}`);
    else args.push(mount.readonly ? '--ro-bind' : '--bind', mount.source, `${prefix}${mount.target}`);
  }
  return args;
}

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** Shell lines (for the unshare fallback) mounting each RUN --mount under "$r". */
function unshareMountLines(mounts: ExecMount[], networkFiles: NetworkFile[]): string {
  const lines = networkFiles.map((file) => {
    const target = `"$r"${quote(file.target)}`;
    return `mount --bind ${quote(file.host)} ${target}; mount -o remount,bind,ro ${target}`;
  });
  for (const mount of mounts) {
    const target = `"$r"${quote(mount.target)}`;
    // Targets under /dev sit in the fresh tmpfs mounted there (a #! heredoc's /dev/pipes), not on
    // disk, so their points are made here; that tmpfs holds no link a Dockerfile could have left.
    if (mount.target.startsWith('/dev/')) {
      const dirPoint = `[ -e ${target} ] || mkdir -p ${target}`;
      const source = mount.kind === 'tmpfs' ? '' : quote(mount.source);
      lines.push(
        mount.kind === 'tmpfs'
          ? dirPoint
          : `if [ -d ${source} ]; then ${dirPoint}; else [ -e ${target} ] || { mkdir -p "$(dirname ${target})"; touch ${target}; }; fi`,
      );
    }
    if (mount.kind === 'tmpfs') lines.push(`mount -t tmpfs -o nosuid,nodev tmpfs ${target}`);
    else {
      const bind = `mount --bind ${quote(mount.source)} ${target}`;
      // Remounting the bind nodev (and ro) as bwrap does; the first mount cannot set flags.
      lines.push(`${bind}; mount -o remount,bind,nodev${mount.readonly ? ',ro' : ''} ${target}`);
    }
  }
  return lines.join('\n');
}

// The fallback: the same namespaces via unshare(1); a host shell binds the stage root on itself
// nodev (as bwrap's --bind is), mounts /proc, a minimal /dev, the network files and RUN's mounts
// inside the new mount namespace, then kiln-sandbox-exec confines the process (caps, bounding
// set, no_new_privs, seccomp from fd 3) and chroot(8) enters the root as the user.
const unshareScript = `set -e
r=$1; p=$r$2; d=$r$3; shift 3
mount --bind "$r" "$r"; mount -o remount,bind,nodev "$r"
mount -t proc proc "$p"
@PROC_MASKS@
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$d"
for n in null zero full random urandom tty; do touch "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
ln -s /proc/self/fd "$d/fd"
if [ -n "$KILN_HELPER" ]; then mkdir -p "$d/.kiln"; touch "$d/.kiln/sh"; mount --bind "$KILN_HELPER" "$d/.kiln/sh"; fi
exec "$@"`;

function unshareInvocation(
  command: ExecCommand,
  tools: SandboxTools,
  points: MountPoints,
  network: CommandNetwork,
): Invocation {
  const { networkFiles, proc, dev } = points;
  const args = ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--ipc', '--uts'];
  if (network !== 'host') args.push('--net');
  const shell = tools.staticShell ? `${helperDir}/sh` : '/bin/sh';
  const confined = command.security !== 'insecure';
  // Confined, kiln-sandbox-exec enters the root by pivot_root, not chroot(2): root keeps
  // CAP_SYS_CHROOT (Docker's set has it), and a chroot is what it would climb out of.
  const inner = confined
    ? [
        ...sandboxExecArgv(tools.sandboxExec!, 3).slice(0, -1),
        '--root',
        command.root,
        '--user',
        `${command.user.uid}:${command.user.gid}`,
        '--groups',
        groupList(command.user),
        '--cwd',
        command.cwd,
        '--',
        ...command.argv,
      ]
    : chrootedArgv(command, tools, command.root, shell);
  // The helper's path travels in argv, not env: env is exactly the command's.
  const helper = tools.staticShell ? `KILN_HELPER=${quote(tools.staticShell)}\n` : '';
  const mounts = unshareMountLines(command.mounts ?? [], networkFiles);
  // Mounts go before the final `exec` line of the script.
  const script = `${helper}${unshareScript
    .replace('@PROC_MASKS@', unshareProcMaskLines(tools.procMasks))
    .replace(/\nexec "\$@"$/, `\n${mounts}\nexec "$@"`)}`;
  args.push('--', '/bin/sh', '-c', script, 'kiln-sandbox', command.root, proc, dev, ...inner);
  return { file: tools.unshare!, args, ...(confined ? { fd3Input: runSeccompBytes() } : {}) };
}
