import { isKilnError } from '@kiln/errors';
import { CommanderError } from 'commander';
import { createProgram } from './cli.ts';
import { type Output, processOutput } from './output.ts';

/**
 * Runs the CLI and returns the exit code. Expected failures (KilnError, usage errors)
 * become one line on stderr; anything else is a bug and says so, in one line too. Stack traces
 * only with `-v debug` (`--verbosity debug`, `--verbosity=debug`).
 */
export async function runCli(args: string[], output: Output = processOutput()): Promise<number> {
  try {
    const program = await createProgram(output, args);
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    return reportFailure(error, output, wantsDebug(args));
  }
}

function reportFailure(error: unknown, output: Output, debug: boolean): number {
  if (error instanceof CommanderError) {
    // commander already printed its message (help, version or a usage error).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isKilnError(error)) {
    output.error(`error: ${error.message}${error.hint ? `\n  hint: ${error.hint}` : ''}`);
    if (debug) output.error(stackOf(error));
    return error.exitCode;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // The first line, cut short: an internal error's message may quote anything it was handed.
  const line = (message.split('\n', 1)[0] ?? '').slice(0, 300);
  output.error(
    `internal error: ${line}\n  hint: this is a bug in Kiln; please report it with the command you ran${debug ? '' : ' and -v debug'}`,
  );
  if (debug) output.error(stackOf(error));
  return 70;
}

/** The error's stack and its causes', for `-v debug`. */
function stackOf(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}

/** Whether the command line asks for debug output (`-v debug` and its spellings). */
function wantsDebug(args: string[]): boolean {
  return args.some(
    (arg, index) =>
      arg === '--verbosity=debug' ||
      arg === '-vdebug' ||
      ((arg === '-v' || arg === '--verbosity') && args[index + 1] === 'debug'),
  );
}

export type { Output } from './output.ts';
