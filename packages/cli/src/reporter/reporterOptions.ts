import { type Command, Option } from 'commander';
import type { Output } from '../output.ts';
import { type CommandResult, createReporter, type LogFormat, type Reporter } from './createReporter.ts';
import { logLevels } from './eventLines.ts';

export interface ReporterFlags {
  verbosity: string;
  logFormat: string;
}

/** `-v/--verbosity` and `--log-format`, the same on every command that reports progress. */
export function addReporterOptions(command: Command): Command {
  return command
    .addOption(new Option('-v, --verbosity <level>', 'log level').choices(logLevels).default('info'))
    .addOption(
      new Option('--log-format <format>', 'progress output: text, color, or JSON lines on stdout')
        .choices(['text', 'json', 'color'])
        .default('text'),
    );
}

export function reporterFor(flags: ReporterFlags, output: Output): Reporter {
  return createReporter({
    format: flags.logFormat as LogFormat,
    verbosity: flags.verbosity,
    output,
    env: process.env,
  });
}

/** Runs a command's work: its result is reported at the end, or its error (JSON lines) before it is thrown. */
export async function reportResult(reporter: Reporter, work: () => Promise<CommandResult>): Promise<void> {
  let result: CommandResult;
  try {
    result = await work();
  } catch (error) {
    reporter.fail(error);
    throw error;
  }
  reporter.finish(result);
}
