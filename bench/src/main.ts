import { isKilnError } from '@kiln/errors';
import { runCli } from './cli.ts';
import { processOutput } from './commands/output.ts';

// Only the top-level error handling lives here: expected failures are one line, anything else is a bug.
// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
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
