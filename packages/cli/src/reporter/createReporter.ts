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

/** What a command produced: its stdout text, or the fields of the JSON-lines format's `result` line. */
export interface CommandResult {
  text: string;
  fields: Record<string, unknown>;
}

export interface Reporter {
  /** Every command's progress is a `BuildEvent`: a build's own, or a registry, snapshot or layer one. */
  onEvent(event: BuildEvent): void;
  finish(result: CommandResult): void;
  fail(error: unknown): void;
}

/** A build's (and a push's) result: the digest, then each destination with it. */
export function digestResult(digest: string, destinations: string[], printDigest = true): CommandResult {
  const lines = [...(printDigest ? [digest] : []), ...destinations.map((d) => `${d}@${digest}`)];
  return { text: lines.map((line) => `${line}\n`).join(''), fields: { digest, destinations } };
}

/**
 * Renders events for every command: JSON lines (`--log-format json`), plain lines for CI logs
 * (`CI` set or stderr not a terminal), or on a terminal the same lines coloured with a live footer
 * of the running steps and transfers. Progress goes to stderr; the result to stdout (in JSON
 * lines, events and the result both go to stdout, one object per line).
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
  const line = (value: object) =>
    output.write(`${JSON.stringify({ time: new Date().toISOString(), ...value })}\n`);
  return {
    onEvent: line,
    finish: (result) => line({ type: 'result', ...result.fields }),
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
    finish(result) {
      if (result.text !== '') output.write(result.text);
    },
    fail() {
      // The error itself is printed once, by the CLI's top level.
    },
  };
}

/** Pulled images (`kiln pull`, `kiln warm`), each as `registry/repository@digest`. */
export function pulledResult(images: string[]): CommandResult {
  return { text: images.map((image) => `${image}\n`).join(''), fields: { images } };
}
