import type { BuildEvent } from '@kiln/builder';
import { isKilnError } from '@kiln/errors';
import type { Output } from '../output.ts';
import { createEventLines, type LineStyle, logLevels } from './eventLines.ts';
import { liveReporter } from './liveReporter.ts';

export type LogFormat = 'text' | 'color' | 'json';

export interface ReporterOptions {
  format: LogFormat;
  /** Kaniko's levels: panic, fatal, error, warn, info, debug, trace. */
  verbosity: string;
  output: Output;
  env: NodeJS.ProcessEnv;
}

export interface BuildSummary {
  digest: string;
  destinations: string[];
}

export interface Reporter {
  onEvent(event: BuildEvent): void;
  finish(summary: BuildSummary): void;
  fail(error: unknown): void;
}

/**
 * Renders builder events: JSON lines (`--log-format json`), plain step lines for CI logs (`CI`
 * set or stderr not a terminal), or on a terminal the same lines coloured with a live footer of
 * the running steps. Progress goes to stderr; the result (digest, destinations) to stdout.
 */
export function createReporter(options: ReporterOptions): Reporter {
  if (options.format === 'json') return jsonReporter(options.output);
  const live = options.output.isTTY && !options.env.CI;
  const style: LineStyle = {
    color: options.format === 'color' || (live && !options.env.NO_COLOR),
    level: Math.max(0, logLevels.indexOf(options.verbosity)),
  };
  if (live && style.level >= logLevels.indexOf('info')) {
    return liveReporter(options.output, style, process.stderr.columns || 100);
  }
  return plainReporter(options.output, style);
}

function jsonReporter(output: Output): Reporter {
  const line = (value: unknown) =>
    output.write(`${JSON.stringify({ time: new Date().toISOString(), ...(value as object) })}\n`);
  return {
    onEvent: line,
    finish: (summary) => line({ type: 'result', ...summary }),
    fail: (error) =>
      line({
        type: 'error',
        code: isKilnError(error) ? error.code : 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
        ...(isKilnError(error) ? { exitCode: error.exitCode } : {}),
      }),
  };
}

function plainReporter(output: Output, style: LineStyle): Reporter {
  const lines = createEventLines(style);
  return {
    onEvent(event) {
      const line = lines.line(event);
      if (line !== undefined) output.error(`${line}\n`);
    },
    finish(summary) {
      output.write(`${summary.digest}\n`);
      for (const destination of summary.destinations) output.write(`${destination}@${summary.digest}\n`);
    },
    fail() {
      // The error itself is printed once, by the CLI's top level.
    },
  };
}
