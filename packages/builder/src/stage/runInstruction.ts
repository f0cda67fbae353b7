import { mkdir } from 'node:fs/promises';
import type { RunInstruction } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import type { Executor, OutputStream } from '../executor/executor.ts';
import type { ArgSources } from './argScope.ts';
import { isProxyArg, runArgs } from './argScope.ts';
import { defaultShell } from './metadataInstructions.ts';
import { resolveUser } from './resolveUser.ts';
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
}

/** The argv of a RUN: exec form as written; shell form (or a heredoc script) through SHELL. */
export function runArgv(state: StageState, instruction: RunInstruction): string[] {
  if (instruction.form === 'exec') return [...instruction.args];
  const shell = state.config.config.Shell ?? defaultShell;
  const heredoc = instruction.heredocs[0];
  // `RUN <<EOF` alone: the body is the script (BuildKit runs it through the shell).
  if (heredoc && /^<<-?["']?\w+["']?\s*$/.test(instruction.command.trim()))
    return [...shell, heredoc.content];
  return [...shell, instruction.command];
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
  let exitCode: number;
  try {
    exitCode = await executor.run(
      {
        root: state.root,
        argv,
        env,
        cwd,
        user,
        network: instruction.network === 'none' ? 'none' : 'host',
        ...(mounts.length > 0 ? { mounts } : {}),
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
  } finally {
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

function oneLine(text: string): string {
  const flat = text
    .replace(/\\\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
