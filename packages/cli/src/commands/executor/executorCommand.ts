import { existsSync } from 'node:fs';
import { Command } from 'commander';
import type { Output } from '../../output.ts';
import { createBuildCommand } from '../build/buildCommand.ts';
import { kanikoEnvironment } from './kanikoEnvironment.ts';
import { normalizeKanikoArgs } from './kanikoFlags.ts';

/** Kaniko's default context, used when it exists (pipelines mount the workspace there). */
export const kanikoWorkspace = '/workspace';

/**
 * `kiln executor`: `kiln build` under Kaniko's command line, so `/kaniko/executor …` pipelines
 * switch by changing the image name only.
 */
export function createExecutorCommand(
  output: Output,
  workspace = kanikoWorkspace,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  return new Command('executor')
    .description("Kaniko-compatible entry: `kiln build` with Kaniko's flag spellings")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      const build = createBuildCommand(output, 'executor', {
        imageFormat: 'auto',
        gzipLevel: 1,
        ...(existsSync(workspace) ? { context: workspace } : {}),
      })
        .exitOverride()
        .configureOutput({ writeOut: (text) => output.write(text), writeErr: (text) => output.error(text) });
      const booleans = new Set(
        build.options
          .filter((option) => !option.required && !option.optional)
          .map((option) => option.long?.slice(2) ?? ''),
      );
      const words = kanikoEnvironment(normalizeKanikoArgs(args, booleans), env);
      await build.parseAsync(words, { from: 'user' });
    });
}
