/**
 * The typed AST of a Dockerfile, as the builder consumes it.
 *
 * Words are kept UNEXPANDED, exactly as written (quotes and escapes included) wherever the
 * instruction expands (ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG):
 * the builder passes them through `expandWord`/`expandWords` with the build-time environment and
 * `Dockerfile.escape`. Exec-form (JSON) arguments are already JSON-decoded.
 * Lines are 1-based and inclusive.
 */

export type EscapeChar = '\\' | '`';

export type DirectiveName = 'syntax' | 'escape' | 'check';

/** A parser directive (`# syntax=…`) from the top of the file. `name` is lower-cased. */
export interface Directive {
  name: DirectiveName;
  value: string;
  line: number;
}

export interface Dockerfile {
  /** As given to the parser (for messages); absent when parsing anonymous text. */
  fileName?: string;
  directives: Directive[];
  /** The active escape character (from `# escape=`, else backslash). */
  escape: EscapeChar;
  instructions: Instruction[];
}

/** An instruction flag such as `--from=builder`; `value` is undefined for a bare `--link`. */
export interface Flag {
  name: string;
  value: string | undefined;
  line: number;
}

/** A here-document body attached to RUN, COPY or ADD. */
export interface Heredoc {
  /** The delimiter word, without quotes (`EOF`). */
  name: string;
  /** The body, ending with a newline per body line; for `<<-` leading tabs are already removed. */
  content: string;
  /**
   * False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): the body is taken literally.
   * When true, COPY/ADD bodies go through `expandHeredocContent`; RUN bodies are the shell's.
   */
  expand: boolean;
  /** True for `<<-`. */
  chomp: boolean;
  /** `3<<EOF` redirects file descriptor 3. */
  fileDescriptor?: number;
  /** The body's first line (the terminator's line when the body is empty) and the terminator's line. */
  startLine: number;
  endLine: number;
}

export type InstructionKind =
  | 'FROM'
  | 'RUN'
  | 'CMD'
  | 'LABEL'
  | 'MAINTAINER'
  | 'EXPOSE'
  | 'ENV'
  | 'ADD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'VOLUME'
  | 'USER'
  | 'WORKDIR'
  | 'ARG'
  | 'ONBUILD'
  | 'STOPSIGNAL'
  | 'HEALTHCHECK'
  | 'SHELL';

interface InstructionBase<K extends InstructionKind> {
  kind: K;
  startLine: number;
  endLine: number;
  /** The original text of the instruction, all its physical lines (continuations, heredoc bodies). */
  raw: string;
  /** Every flag as written, in order, already validated for this instruction. */
  flags: Flag[];
}

/** The command of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD. */
export type CommandPayload =
  | { form: 'exec'; args: string[]; heredocs: Heredoc[] }
  | { form: 'shell'; command: string; heredocs: Heredoc[] };

/** `--mount` values; option values are kept as strings, unexpanded. */
export type Mount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;

export interface BindMount {
  type: 'bind';
  target: string;
  source?: string;
  from?: string;
  /** Bind mounts are read-only unless `rw`/`readwrite`. */
  readonly: boolean;
}

export type CacheSharing = 'shared' | 'private' | 'locked';

export interface CacheMount {
  type: 'cache';
  target: string;
  id?: string;
  source?: string;
  from?: string;
  sharing: CacheSharing;
  readonly: boolean;
  mode?: string;
  uid?: string;
  gid?: string;
}

export interface TmpfsMount {
  type: 'tmpfs';
  target: string;
  size?: string;
}

export interface SecretMount {
  type: 'secret';
  id?: string;
  target?: string;
  /** `env=NAME` exposes the secret as an environment variable. */
  env?: string;
  required: boolean;
  mode?: string;
  uid?: string;
  gid?: string;
}

export interface SshMount {
  type: 'ssh';
  id?: string;
  target?: string;
  required: boolean;
  mode?: string;
  uid?: string;
  gid?: string;
}

export type FromInstruction = InstructionBase<'FROM'> & {
  image: string;
  platform?: string;
  /** The name after `AS`, lower-cased as BuildKit does (stage names are case-insensitive). */
  stageName?: string;
};

export type RunInstruction = InstructionBase<'RUN'> &
  CommandPayload & {
    mounts: Mount[];
    network?: string;
    security?: string;
  };

export type CmdInstruction = InstructionBase<'CMD'> & CommandPayload;
export type EntrypointInstruction = InstructionBase<'ENTRYPOINT'> & CommandPayload;

/** SHELL accepts the exec (JSON) form only. */
export type ShellInstruction = InstructionBase<'SHELL'> & { args: string[] };

export interface KeyValue {
  key: string;
  value: string;
}

export type EnvInstruction = InstructionBase<'ENV'> & { pairs: KeyValue[] };
export type LabelInstruction = InstructionBase<'LABEL'> & { pairs: KeyValue[] };

export interface ArgDeclaration {
  name: string;
  defaultValue?: string;
}

export type ArgInstruction = InstructionBase<'ARG'> & { args: ArgDeclaration[] };

export interface CopyOptions {
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export interface AddOptions {
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir: boolean;
  /** `--parents` (labs): keep the source's parent directories under the destination. */
  parents: boolean;
  /** `--unpack=false` keeps archives packed; undefined = the default (unpack local archives). */
  unpack?: boolean;
}

interface FileTransferPayload {
  /** Raw words; a source may name a heredoc (`<<EOF`), whose body is in `heredocs`. */
  sources: string[];
  destination: string;
  heredocs: Heredoc[];
  form: 'exec' | 'shell';
}

export type CopyInstruction = InstructionBase<'COPY'> & FileTransferPayload & { options: CopyOptions };
export type AddInstruction = InstructionBase<'ADD'> & FileTransferPayload & { options: AddOptions };

export type ExposeInstruction = InstructionBase<'EXPOSE'> & { values: string[] };
export type VolumeInstruction = InstructionBase<'VOLUME'> & { values: string[] };

export type UserInstruction = InstructionBase<'USER'> & { value: string };
export type WorkdirInstruction = InstructionBase<'WORKDIR'> & { value: string };
export type StopsignalInstruction = InstructionBase<'STOPSIGNAL'> & { value: string };
export type MaintainerInstruction = InstructionBase<'MAINTAINER'> & { value: string };

/** The wrapped instruction keeps the ONBUILD's lines; it is never ONBUILD, FROM or MAINTAINER. */
export type OnbuildInstruction = InstructionBase<'ONBUILD'> & { instruction: Instruction };

/** Durations are kept as written (`30s`, `1m30s`); the builder parses them. */
export interface HealthcheckOptions {
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

export type HealthcheckInstruction = InstructionBase<'HEALTHCHECK'> &
  ({ type: 'NONE' } | ({ type: 'CMD'; options: HealthcheckOptions } & CommandPayload));

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | AddInstruction
  | CopyInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

/** Instructions whose words the builder expands with `expandWord`/`expandWords`. */
export const expandingInstructions: ReadonlySet<InstructionKind> = new Set<InstructionKind>([
  'ADD',
  'COPY',
  'ENV',
  'EXPOSE',
  'FROM',
  'LABEL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
  'ARG',
  'ONBUILD',
]);

export interface ParseOptions {
  /** Named in error messages and kept on the AST. */
  fileName?: string;
}
