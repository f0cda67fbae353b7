import { readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { envRecord } from './envRecord.ts';
import type { ExecCommand, Executor, IgnoreRule, RunOptions, StageRootRequest } from './executor.ts';
import { placeMounts } from './placeMounts.ts';
import { runProcess } from './runProcess.ts';

export interface ContainerExecutorOptions {
  /** Kiln's own scratch space; ignored like everything under /kiln. */
  workDir: string;
  /** The root the build owns; `/` in the executor image. Tests pass a temp dir. */
  root?: string;
  /** Where mount points are read from. */
  mountInfoPath?: string;
  /**
   * Paths that must survive emptying the root although they are not mounts: the build context,
   * the Dockerfile, output files (Agola restores the workspace into /workspace, a plain directory).
   */
  keepPaths?: string[];
  /** Leave `/var/run` out of snapshots and keep it when emptying (default true; Kaniko's `--ignore-var-run`). */
  ignoreVarRun?: boolean;
}

// Kiln's own directories (and Kaniko's, for drop-in use; /busybox in the debug image).
const ownDirs = ['/kiln', '/kaniko', '/busybox'];
// Runtime state of the container that no image should capture (Kaniko ignores it too).
const runtimeDirs = ['/var/run'];

/**
 * Kaniko's model (docs/design.md, "container"): the container Kiln runs in is the sandbox. The
 * stage root is `/`, commands are spawned in place, and everything the container runtime put
 * there (mounts) or Kiln brought (its own dirs) is ignored: never snapshotted, deleted or overwritten.
 * Needs nothing beyond a default unprivileged container: no namespaces, no mounts.
 */
export class ContainerExecutor implements Executor {
  readonly kind = 'container' as const;
  readonly concurrentStages = false;
  readonly #root: string;
  readonly #rules: IgnoreRule[];
  readonly #workDir: string;
  #runs = 0;

  constructor(options: ContainerExecutorOptions) {
    this.#root = options.root ?? '/';
    this.#workDir = options.workDir;
    const mounts = readMountPoints(options.mountInfoPath ?? '/proc/self/mountinfo');
    this.#rules = dedupeRules([
      ...ownDirs.map((path) => ({ path, reason: 'kiln' as const })),
      { path: toRootPath(options.workDir, this.#root), reason: 'kiln' },
      ...(options.ignoreVarRun === false ? [] : runtimeDirs).map((path) => ({
        path,
        reason: 'mount' as const,
      })),
      ...mounts.map((path) => ({ path, reason: 'mount' as const })),
      ...(options.keepPaths ?? []).map((path) => ({
        path: toRootPath(path, this.#root),
        reason: 'user' as const,
      })),
    ]);
  }

  /** There is one root: the first stage starts from it emptied, like every later one. */
  async prepareRoot(_stage: StageRootRequest): Promise<string> {
    await emptyDirectoryKeeping(this.#root, '/', this.#rules);
    return this.#root;
  }

  ignoredPaths(): IgnoreRule[] {
    return this.#rules;
  }

  async dispose(): Promise<void> {
    // Nothing to undo: the root belongs to the build, and the container ends with it.
  }

  /** RUN --mount without mounting: the mounts' content is put in place around the command. */
  async run(command: ExecCommand, options: RunOptions = {}): Promise<number> {
    const mounts = command.mounts ?? [];
    if (mounts.length === 0) return this.#spawn(command, options);
    const scratch = join(this.#workDir, 'run-mounts', String(this.#runs++));
    const takeBack = await placeMounts(this.#root, mounts, scratch, this.#rules);
    try {
      return await this.#spawn(command, options);
    } finally {
      await takeBack();
      await rm(scratch, { recursive: true, force: true });
    }
  }

  #spawn(command: ExecCommand, options: RunOptions): Promise<number> {
    if (command.root !== this.#root) {
      throw new KilnError(
        'EXECUTOR_ROOT_MISMATCH',
        `container executor runs in ${this.#root}, not ${command.root}`,
      );
    }
    const cwd = join(this.#root, command.cwd);
    const env = envRecord(command.env);
    const { uid, gid } = command.user;
    const extraGroups = command.user.groups.filter((group) => group !== gid);
    if (extraGroups.length === 0) {
      // libuv drops supplementary groups and sets gid then uid: exactly what USER asks for here.
      return runProcess({ file: command.argv[0]!, args: command.argv.slice(1), env, cwd, uid, gid }, options);
    }
    // Supplementary groups need setgroups(2) before the switch, which spawn cannot do: a short
    // launcher in this same Node (no shell or setpriv in the image) sets them, then runs the command.
    return runProcess(
      {
        file: process.execPath,
        args: [
          '-e',
          launcherScript,
          JSON.stringify({ uid, gid, groups: [gid, ...extraGroups], argv: command.argv }),
        ],
        env,
        cwd,
      },
      options,
    );
  }
}

const launcherScript = `
const { uid, gid, groups, argv } = JSON.parse(process.argv[1]);
process.setgroups(groups); process.setgid(gid); process.setuid(uid);
const child = require('node:child_process').spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
child.on('error', (e) => { process.stderr.write(String(e.message) + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? 128 + (require('node:os').constants.signals[signal] ?? 0)));
`;

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded), `/` itself excluded. */
export function parseMountInfo(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const path = field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    if (path !== '/') points.push(path);
  }
  return points;
}

function readMountPoints(path: string): string[] {
  // Synchronous on purpose: read once at construction, a few KiB.
  try {
    return parseMountInfo(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KilnError('MOUNTINFO_UNREADABLE', `cannot read the container's mounts from ${path}`, {
      cause: error,
      hint: 'container mode needs /proc mounted, as every container runtime does',
    });
  }
}

function toRootPath(path: string, root: string): string {
  const trimmedRoot = root.replace(/\/+$/, '');
  if (trimmedRoot && (path === trimmedRoot || path.startsWith(`${trimmedRoot}/`))) {
    return path.slice(trimmedRoot.length) || '/';
  }
  return path;
}

function dedupeRules(rules: IgnoreRule[]): IgnoreRule[] {
  const byPath = new Map<string, IgnoreRule>();
  for (const rule of rules) {
    const path = rule.path.replace(/\/+$/, '') || '/';
    if (path !== '/' && !byPath.has(path)) byPath.set(path, { ...rule, path });
  }
  return [...byPath.values()];
}

/**
 * Removes everything under `dir` (a path inside the root) except ignored paths and the
 * directories leading to them. Never follows symlinks; never crosses into an ignored mount.
 */
async function emptyDirectoryKeeping(root: string, dir: string, rules: IgnoreRule[]): Promise<void> {
  let names: string[];
  try {
    names = await readdir(join(root, dir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
    if (rules.some((rule) => rule.path === path)) continue;
    const holdsIgnored = rules.some((rule) => rule.path.startsWith(`${path}/`));
    if (holdsIgnored) {
      const info = await lstat(join(root, path));
      if (info.isDirectory()) {
        await emptyDirectoryKeeping(root, path, rules);
        continue;
      }
    }
    await rm(join(root, path), { recursive: true, force: true });
  }
}
