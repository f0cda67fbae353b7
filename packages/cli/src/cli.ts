import { Command } from 'commander';
import type { Output } from './output.ts';

export const kilnVersion = '0.1.0';

type CommandLoader = (output: Output, program: Command) => Promise<void>;

/**
 * Every `kiln` command, in help order, each loaded only when it runs: `kiln snapshot` must not pay
 * for the builder's and registry's modules at startup (the bundle splits at these imports).
 */
const commands: Record<string, CommandLoader> = {
  build: async (output, program) => {
    const { createBuildCommand } = await import('./commands/build/buildCommand.ts');
    program.addCommand(createBuildCommand(output).copyInheritedSettings(program));
  },
  executor: async (output, program) => {
    const { createExecutorCommand } = await import('./commands/executor/executorCommand.ts');
    program.addCommand(createExecutorCommand(output).copyInheritedSettings(program));
  },
  index: async (output, program) => {
    const { indexCommand } = await import('./commands/index/indexCommand.ts');
    program.addCommand(indexCommand(output, program));
  },
  pull: async (output, program) => {
    const { pullCommand } = await import('./commands/pull/pullCommand.ts');
    program.addCommand(pullCommand(output).copyInheritedSettings(program));
  },
  push: async (output, program) => {
    const { pushCommand } = await import('./commands/push/pushCommand.ts');
    program.addCommand(pushCommand(output).copyInheritedSettings(program));
  },
  snapshot: async (output, program) => {
    const { snapshotCommand } = await import('./commands/snapshot/snapshotCommand.ts');
    program.addCommand(snapshotCommand(output).copyInheritedSettings(program));
  },
  warm: async (output, program) => {
    const { warmCommand } = await import('./commands/warm/warmCommand.ts');
    program.addCommand(warmCommand(output).copyInheritedSettings(program));
  },
  warmer: async (output, program) => {
    const { createWarmerCommand } = await import('./commands/warm/warmerCommand.ts');
    program.addCommand(createWarmerCommand(output).copyInheritedSettings(program));
  },
  parse: async (output, program) => {
    const { registerParseCommand } = await import('./commands/parse/index.ts');
    registerParseCommand(program, output);
  },
};

/**
 * Declares the `kiln` commands; each command's code lives in `commands/<name>/`. Given the command
 * line, only the command it names is loaded; without one (help, an unknown name) every command is,
 * so help lists them all and a typo gets a suggestion.
 */
export async function createProgram(output: Output, args: readonly string[] = []): Promise<Command> {
  const program = new Command('kiln')
    .description('Build OCI images from Dockerfiles without a daemon, and push them to registries.')
    .version(kilnVersion)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.write(text),
      writeErr: (text) => output.error(text),
    })
    .showSuggestionAfterError(true);
  const named = args[0] !== undefined && Object.hasOwn(commands, args[0]) ? [args[0]] : Object.keys(commands);
  for (const name of named) await commands[name]!(output, program);
  return program;
}
