import type { BuildEvent } from '@kiln/builder';
import { isKilnError } from '@kiln/errors';
import type { Output } from '../output.ts';
import { formatBytes, formatMs, shortDigest } from './formatting.ts';

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

const levels = ['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * Renders builder events: JSON lines (`--log-format json`), plain step lines for CI logs (`CI`
 * set or stderr not a terminal), or the same lines coloured on a terminal.
 * Progress goes to stderr; the result (digest, destinations) to stdout.
 */
export function createReporter(options: ReporterOptions): Reporter {
  if (options.format === 'json') return jsonReporter(options.output);
  const live = options.output.isTTY && !options.env.CI;
  return textReporter(options.output, {
    color: options.format === 'color' || (live && !options.env.NO_COLOR),
    level: Math.max(0, levels.indexOf(options.verbosity)),
  });
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

interface TextStyle {
  color: boolean;
  level: number;
}

function textReporter(output: Output, style: TextStyle): Reporter {
  const paint = (code: number, text: string) => (style.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const info = style.level >= levels.indexOf('info');
  const debug = style.level >= levels.indexOf('debug');
  const say = (text: string) => output.error(`${text}\n`);
  return {
    onEvent(event) {
      switch (event.type) {
        case 'build-started':
          if (info)
            say(
              paint(
                1,
                `Building ${event.target} (stages: ${event.stages.join(', ')}; executor: ${event.executor})`,
              ),
            );
          break;
        case 'stage-started':
          if (info) say(paint(36, `[${event.stage}] FROM ${event.base}`));
          break;
        case 'base-pulled':
          if (info)
            say(
              dim(
                `  base ${event.reference}@${shortDigest(event.digest)} (${event.layers} layers, ${formatMs(event.ms)})`,
              ),
            );
          break;
        case 'step-started': {
          const label = `[${event.stage} ${event.step}/${event.steps}]`;
          if (info) say(`${paint(1, label)} ${event.instruction}`);
          break;
        }
        case 'run-output':
          if (info) say(dim(`  │ ${event.line}`));
          break;
        case 'step-cached':
          if (info) say(dim('  cached'));
          break;
        case 'snapshot-done':
          if (debug)
            say(
              dim(`  snapshot: ${event.changes} changes of ${event.entries} entries (${formatMs(event.ms)})`),
            );
          break;
        case 'layer-written':
          if (info)
            say(
              dim(`  layer ${shortDigest(event.digest)} ${formatBytes(event.size)} (${formatMs(event.ms)})`),
            );
          break;
        case 'step-done':
          if (debug) say(dim(`  done in ${formatMs(event.ms)}`));
          break;
        case 'stage-done':
          if (debug) say(dim(`[${event.stage}] done in ${formatMs(event.ms)}`));
          break;
        case 'push-progress': {
          const detail = event.detail;
          const blob = typeof detail.digest === 'string' ? shortDigest(detail.digest) : '';
          if (detail.kind === 'blob-done' && detail.direction === 'push' && info) {
            say(
              dim(`  pushed blob ${blob} ${formatBytes(Number(detail.size ?? 0))} to ${event.destination}`),
            );
          } else if (detail.kind === 'blob-mounted' && info) {
            say(dim(`  mounted blob ${blob} into ${event.destination}`));
          } else if (detail.kind === 'retry' && info) {
            say(paint(33, `  retrying ${String(detail.operation ?? '')} (${String(detail.reason ?? '')})`));
          } else if (debug && detail.kind !== 'blob-progress') {
            say(dim(`  ${detail.kind} ${event.destination} ${blob}`));
          }
          break;
        }
        case 'pushed':
          if (info) say(`${paint(32, 'pushed')} ${event.destination}@${event.digest}`);
          break;
        case 'output-written':
          if (info) say(dim(`wrote ${event.kind} ${event.path}`));
          break;
        case 'image-done':
          if (info)
            say(`${paint(32, 'built')} ${event.digest} (${formatBytes(event.size)}, ${formatMs(event.ms)})`);
          break;
        case 'warning':
          if (style.level >= levels.indexOf('warn')) say(paint(33, `warning: ${event.message}`));
          break;
      }
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
