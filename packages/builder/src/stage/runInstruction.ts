import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunInstruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import type { ExecMount, Executor, OutputStream } from '../executor/executor.ts';
import type { ArgSources } from './argScope.ts';
import { isProxyArg, runArgs } from './argScope.ts';
import { defaultShell } from './metadataInstructions.ts';
import { resolveUser } from './resolveUser.ts';
import {
  checkScriptName,
  type HeredocScript,
  heredocScriptDir,
  scriptArgv,
  shellRun,
} from './runHeredocs.ts';
import { type RunMountContext, resolveRunMounts } from './runMounts.ts';
import type { StageState } from './stageState.ts';
import { defaultPath, getEnv } from './stageState.ts';

const tailLines = 20;

export interface RunStepInput {
  state: StageState;
  instruction: RunInstruction;
  executor: Executor;
  args: ArgSources;
  /** `Dockerfile:12` */
  where: string;
  onOutput: (line: string, stream: OutputStream) => void;
  signal?: AbortSignal;
  /** How RUN --mount sources resolve; absent: --mount is refused. */
  mounts?: Omit<RunMountContext, 'cwd'>;
  /** Called as soon as the command was started (before it ends). */
  onStarted?: () => void;
}

/** The argv of a RUN: exec form as written; shell form (with its heredocs) through SHELL. */
export function runArgv(state: StageState, instruction: RunInstruction): string[] {
  if (instruction.form === 'exec') return [...instruction.args];
  const shell = state.config.config.Shell ?? defaultShell;
  return [...shell, shellRun(instruction.command, instruction.heredocs).script];
}

/**
 * What a RUN's cache key covers beyond its history text: a `#!` heredoc runs as a file whose
 * name alone is in the argv, so its body must be keyed too (BuildKit keys the mounted file).
 */
export function runCacheText(createdBy: string, instruction: RunInstruction): string {
  if (instruction.form === 'exec') return createdBy;
  const file = shellRun(instruction.command, instruction.heredocs).file;
  return file === undefined ? createdBy : `${createdBy}\0${file.name}\0${file.content}`;
}

/** History text as BuildKit writes it: build args the command saw, then the argv. */
export function runCreatedBy(state: StageState, instruction: RunInstruction, args: ArgSources): string {
  const visible = runArgs(state, args).filter(([name]) => !isProxyArg(name));
  const prefix =
    visible.length === 0 ? '' : `|${visible.length} ${visible.map(([k, v]) => `${k}=${v}`).join(' ')} `;
  return `RUN ${prefix}${runArgv(state, instruction).join(' ')} # buildkit`;
}

/**
 * Executes a RUN in the stage root; a non-zero exit becomes RUN_FAILED with its exit code.
 * Resolves with the in-image paths it had mounts on.
 */
export async function runInstruction(input: RunStepInput): Promise<string[]> {
  const { state, instruction, executor } = input;
  const config = state.config.config;
  const env = [...(config.Env ?? [])];
  const names = new Set(env.map((entry) => entry.slice(0, entry.indexOf('='))));
  for (const [name, value] of runArgs(state, input.args)) {
    if (!names.has(name)) env.push(`${name}=${value}`);
  }
  if (getEnv(state, 'PATH') === undefined && !names.has('PATH')) env.unshift(`PATH=${defaultPath}`);
  const cwd = config.WorkingDir || '/';
  // Docker creates a missing workdir for RUN (WORKDIR already did when it ran here).
  await mkdir(await resolveInRoot(state.root, cwd), { recursive: true, mode: 0o755 });
  const user = await resolveUser(state.root, config.User ?? '');
  if (instruction.mounts.length > 0 && !input.mounts) {
    throw new KilnError('UNSUPPORTED_MOUNT', `${input.where}: RUN --mount needs the sandbox executor`, {
      hint: 'container mode runs in an unprivileged container, which cannot mount; use --executor sandbox',
    });
  }
  const resolved =
    instruction.mounts.length > 0 && input.mounts
      ? await resolveRunMounts(instruction.mounts, { ...input.mounts, cwd })
      : undefined;
  const mounts = resolved?.mounts ?? [];
  for (const entry of resolved?.env ?? []) {
    // A secret exposed as a variable replaces one of the same name.
    const prefix = entry.slice(0, entry.indexOf('=') + 1);
    const existing = env.findIndex((candidate) => candidate.startsWith(prefix));
    if (existing >= 0) env.splice(existing, 1);
    env.push(entry);
  }
  const tail: string[] = [];
  const argv = runArgv(state, instruction);
  const script =
    instruction.form === 'shell' ? shellRun(instruction.command, instruction.heredocs).file : undefined;
  if (script) checkScriptName(script.name, input.where);
  const staged = script ? await stageScript(executor.kind, state.root, script) : undefined;
  let exitCode: number;
  try {
    const running = executor.run(
      {
        root: state.root,
        // History keeps BuildKit's `SHELL /dev/pipes/NAME`; the file runs through its interpreter.
        argv: (script && scriptArgv(script.content, argv.at(-1)!)) || argv,
        env,
        cwd,
        user,
        network:
          instruction.network === 'none' || instruction.network === 'host' ? instruction.network : 'default',
        // Allowed only by the build's security.insecure entitlement, checked before the build starts.
        security: instruction.security === 'insecure' ? 'insecure' : 'sandbox',
        ...(mounts.length > 0 || staged?.mount
          ? { mounts: [...mounts, ...(staged?.mount ? [staged.mount] : [])] }
          : {}),
      },
      {
        onOutput: (line, stream) => {
          tail.push(line);
          if (tail.length > tailLines) tail.shift();
          input.onOutput(line, stream);
        },
        ...(input.signal ? { signal: input.signal } : {}),
      },
    );
    input.onStarted?.();
    exitCode = await running;
  } finally {
    await staged?.cleanup();
    await resolved?.release();
  }
  if (exitCode !== 0) {
    const command = instruction.form === 'exec' ? JSON.stringify(instruction.args) : instruction.command;
    const output =
      tail.length === 0 ? ' (no output)' : `; last output:\n${tail.map((line) => `  ${line}`).join('\n')}`;
    throw new KilnError(
      'RUN_FAILED',
      `RUN at ${input.where} failed with exit code ${exitCode}: ${oneLine(command)}${output}`,
      { exitCode },
    );
  }
  return mounts.map((mount) => mount.target);
}

/**
 * Puts a `#!` heredoc where the command finds it at `/dev/pipes/NAME`, executable and outside
 * every layer: the sandbox bind-mounts a host directory there read-only; container mode writes
 * into the container's own /dev, a mount the snapshot skips, and removes it afterwards.
 */
async function stageScript(
  kind: Executor['kind'],
  root: string,
  script: HeredocScript,
): Promise<{ mount?: ExecMount; cleanup: () => Promise<void> }> {
  if (kind === 'sandbox') {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-heredoc-'));
    // mkdtemp makes it 0700; a RUN as another user must reach the script.
    await chmod(dir, 0o755);
    const file = join(dir, script.name);
    await writeFile(file, script.content, { flag: 'wx' });
    await chmod(file, 0o755);
    return {
      mount: { kind: 'bind', source: dir, target: heredocScriptDir, readonly: true },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const dir = join(root, heredocScriptDir);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, script.name);
  // `wx`: never through a link or over a file someone else left there.
  await writeFile(file, script.content, { flag: 'wx' });
  await chmod(file, 0o755);
  return { cleanup: () => rm(file, { force: true }) };
}

function oneLine(text: string): string {
  const flat = text
    .replace(/\\\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
