import { Command } from 'commander';
import { createBuildCommand } from './commands/build/buildCommand.ts';
import { createExecutorCommand } from './commands/executor/executorCommand.ts';
import { indexCommand } from './commands/index/indexCommand.ts';
import { registerParseCommand } from './commands/parse/index.ts';
import { pullCommand } from './commands/pull/pullCommand.ts';
import { pushCommand } from './commands/push/pushCommand.ts';
import { snapshotCommand } from './commands/snapshot/snapshotCommand.ts';
import { warmCommand } from './commands/warm/warmCommand.ts';
import { createWarmerCommand } from './commands/warm/warmerCommand.ts';
import type { Output } from './output.ts';

export const kilnVersion = '0.1.0';

/** Declares the `kiln` commands; each command's code lives in `commands/<name>/`. */
export function createProgram(output: Output): Command {
  const program = new Command('kiln')
    .description('Build OCI images from Dockerfiles without a daemon, and push them to registries.')
    .version(kilnVersion)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.write(text),
      writeErr: (text) => output.error(text),
    })
    .showSuggestionAfterError(true);
  // Command registrations, one line each:
  program.addCommand(createBuildCommand(output).copyInheritedSettings(program));
  program.addCommand(createExecutorCommand(output).copyInheritedSettings(program));
  program.addCommand(indexCommand(output, program));
  program.addCommand(pullCommand(output).copyInheritedSettings(program));
  program.addCommand(pushCommand(output).copyInheritedSettings(program));
  program.addCommand(snapshotCommand(output).copyInheritedSettings(program));
  program.addCommand(warmCommand(output).copyInheritedSettings(program));
  program.addCommand(createWarmerCommand(output).copyInheritedSettings(program));
  registerParseCommand(program, output);
  return program;
}
