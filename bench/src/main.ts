import { isKilnError } from '@kiln/errors';
import { runCli } from './cli.ts';
import { processOutput } from './commands/output.ts';

// Only the top-level error handling lives here: expected failures are one line, anything else is a bug.
try {
  await runCli(process.argv.slice(2), processOutput);
} catch (error) {
  if (isKilnError(error)) {
    process.stderr.write(
      `bench: ${error.message} [${error.code}]\n${error.hint ? `hint: ${error.hint}\n` : ''}`,
    );
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(
      `bench: internal error, please file a bug\n${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exitCode = 70;
  }
}
