/**
 * Where RUN executes. Two implementations share this interface (docs/design.md, "Builder"):
 * `sandbox` (each stage root is a directory under the work dir, commands run in bubblewrap or
 * unshare+chroot) and `container` (the root is `/` of the container Kiln runs in, commands are
 * spawned in place). The builder never assumes which one it has: it asks for a root, writes the
 * stage's files into it, runs commands through `run`, and snapshots it skipping `ignoredPaths`.
 */

export type ExecutorKind = 'sandbox' | 'container';

/**
 * The build's `--network`, what RUN gets by default: `host` (as Kaniko and Docker's build),
 * `none` (loopback only), or `sandbox` (a network namespace of its own with outbound access
 * through a user-mode stack, so RUN cannot reach services on the machine's loopback).
 */
export type BuildNetwork = 'host' | 'none' | 'sandbox';

/** The numeric identity a command runs as (USER already resolved against the stage's /etc files). */
export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups; the primary gid is added by the executor when missing. */
  groups: number[];
}

export interface ExecCommand {
  /** The stage root returned by `prepareRoot`. */
  root: string;
  /** argv[0] is looked up on the PATH in `env` inside the root when it has no `/`. */
  argv: string[];
  /** `KEY=value` strings, exactly the environment the command sees. */
  env: string[];
  /** Absolute path inside the root. */
  cwd: string;
  user: ExecUser;
  /**
   * RUN --network: `default` is the build's `--network` (see `BuildNetwork`); `none` gives the
   * command a network namespace of its own with loopback only; `host` the machine's network.
   */
  network: 'default' | 'host' | 'none';
  /**
   * RUN --mount: host paths or tmpfs mounted at absolute in-image targets for this command only.
   * Nothing written through a mount reaches the root on disk (so no layer). Container mode cannot
   * mount: it puts each mount's content in place around the command and takes it back after.
   */
  mounts?: ExecMount[];
  /**
   * `sandbox` (the default): Docker's default capabilities and seccomp filter, no_new_privs.
   * `insecure` (RUN --security=insecure, allowed by the build's `security.insecure` entitlement):
   * every capability and no filter.
   */
  security?: 'sandbox' | 'insecure';
}

export type ExecMount =
  | {
      kind: 'bind';
      source: string;
      target: string;
      readonly: boolean;
      /** A cache mount's sharing: what the command writes must persist in `source`. */
      cache?: 'shared' | 'private' | 'locked';
    }
  | { kind: 'tmpfs'; target: string };

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  /** Every output line, without its newline, as it arrives. */
  onOutput?: (line: string, stream: OutputStream) => void;
  /** Aborting kills the command (and everything it started). */
  signal?: AbortSignal;
}

/** A path inside the root (absolute, e.g. `/proc`) that snapshots skip, with everything below it. */
export interface IgnoreRule {
  path: string;
  /** Why it is skipped (shown in debug events). */
  reason: 'mount' | 'kiln' | 'user';
}

export interface StageRootRequest {
  /** Position of the stage in the Dockerfile (0-based). */
  index: number;
  /** `FROM … AS name`, else the index as a string. */
  name: string;
}

export interface Executor {
  readonly kind: ExecutorKind;
  /** Whether two stage roots can exist at once (sandbox: yes; container: there is one `/`). */
  readonly concurrentStages: boolean;
  /** An empty root for a stage, created if needed; the builder extracts the base into it. */
  prepareRoot(stage: StageRootRequest): Promise<string>;
  /** Runs a command in a root and resolves with its exit code (128+n when killed by signal n). */
  run(command: ExecCommand, options?: RunOptions): Promise<number>;
  /** Paths the snapshot must skip in every root of this executor. */
  ignoredPaths(): IgnoreRule[];
  /** Removes whatever the executor created; safe to call twice. */
  dispose(): Promise<void>;
}
