import { Command } from 'commander';
import type { Output } from '../../output.ts';
import { normalizeKanikoArgs } from '../executor/kanikoFlags.ts';
import { warmCommand } from './warmCommand.ts';

/** Kaniko's warmer writes to /cache unless told otherwise. */
export const kanikoCacheDir = '/cache';

/**
 * `kiln warmer` (what `/kaniko/warmer` runs): `kiln warm` under Kaniko's warmer command line
 * (`--image`, `--dockerfile`, `--cache-dir` defaulting to /cache, `--flag=true` booleans).
 */
export function createWarmerCommand(output: Output): Command {
  return new Command('warmer')
    .description("Kaniko-compatible warmer: `kiln warm` with Kaniko's flag spellings")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => {
      const warm = warmCommand(output, 'warmer', { cacheDir: kanikoCacheDir })
        .exitOverride()
        .configureOutput({ writeOut: (text) => output.write(text), writeErr: (text) => output.error(text) });
      const booleans = new Set(
        warm.options
          .filter((option) => !option.required && !option.optional)
          .map((option) => option.long?.slice(2) ?? ''),
      );
      await warm.parseAsync(normalizeKanikoArgs(args, booleans), { from: 'user' });
    });
}
