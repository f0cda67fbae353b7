import { isKilnError } from '@kiln/errors';
import { CommanderError } from 'commander';
import { createProgram } from './cli.ts';
import { type Output, processOutput } from './output.ts';

/**
 * Runs the CLI and returns the exit code. Expected failures (KilnError, usage errors)
 * become one line on stderr; anything else is a bug and says so.
 */
export async function runCli(args: string[], output: Output = processOutput()): Promise<number> {
  const program = createProgram(output);
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    return reportFailure(error, output);
  }
}

function reportFailure(error: unknown, output: Output): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (help, version or a usage error).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isKilnError(error)) {
    output.error(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.error(
    `internal error: ${detail}\n  hint: this is a bug in Kiln; please report it with the command you ran`,
  );
  return 70;
}

export type { Output } from './output.ts';
