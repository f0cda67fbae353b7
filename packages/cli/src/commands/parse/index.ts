import { readFile } from 'node:fs/promises';
import { parseDockerfile } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import type { Command } from 'commander';
import type { Output } from '../../output.ts';
import { readStdin } from '../../readStdin.ts';
import { formatListing } from './formatListing.ts';

interface ParseCommandOptions {
  json?: boolean;
}

/** `kiln parse [FILE|-] [--json]`: a thin shell over `parseDockerfile`. */
export function registerParseCommand(program: Command, output: Output): void {
  program
    .command('parse')
    .description('Parse a Dockerfile and print its syntax tree (a listing, or JSON with --json)')
    .argument('[file]', 'the Dockerfile to parse, or - for standard input', 'Dockerfile')
    .option('--json', 'print the syntax tree as JSON')
    .action(async (file: string, options: ParseCommandOptions) => {
      const fromStdin = file === '-';
      const text = fromStdin ? await readStdin() : await readDockerfile(file);
      const dockerfile = parseDockerfile(text, { fileName: fromStdin ? '<stdin>' : file });
      output.write(options.json ? `${JSON.stringify(dockerfile, null, 2)}\n` : formatListing(dockerfile));
    });
}

async function readDockerfile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KilnError(
      code === 'ENOENT' ? 'DOCKERFILE_NOT_FOUND' : 'DOCKERFILE_UNREADABLE',
      code === 'ENOENT' ? `cannot find ${file}` : `cannot read ${file}: ${(error as Error).message}`,
      { hint: 'name the Dockerfile to parse, or - to read it from standard input', cause: error },
    );
  }
}
