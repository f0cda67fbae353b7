import type { BuildEvent } from '@kiln/builder';
import { formatBytes, formatMs, shortDigest } from './formatting.ts';

export const logLevels = ['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface LineStyle {
  color: boolean;
  /** Index in `logLevels`. */
  level: number;
}

/**
 * The text line (if any) an event prints at a verbosity: shared by the plain and the live
 * reporter. RUN output names its step only when it interleaves with another step's.
 */
export function createEventLines(style: LineStyle) {
  const paint = (code: number, text: string) => (style.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const info = style.level >= logLevels.indexOf('info');
  const debug = style.level >= logLevels.indexOf('debug');
  const warn = style.level >= logLevels.indexOf('warn');
  let lastStep = '';
  const stepOf = (stage: string, step: number) => `${stage} ${step}`;

  function line(event: BuildEvent): string | undefined {
    switch (event.type) {
      case 'build-started':
        return info
          ? paint(
              1,
              `Building ${event.target} (stages: ${event.stages.join(', ')}; executor: ${event.executor})`,
            )
          : undefined;
      case 'stage-started':
        return info ? paint(36, `[${event.stage}] FROM ${event.base}`) : undefined;
      case 'base-pulled':
        return info
          ? dim(
              `  base ${event.reference}@${shortDigest(event.digest)} (${event.layers} layers, ${formatMs(event.ms)})`,
            )
          : undefined;
      case 'step-started':
        lastStep = stepOf(event.stage, event.step);
        return info
          ? `${paint(1, `[${event.stage} ${event.step}/${event.steps}]`)} ${event.instruction}`
          : undefined;
      case 'run-output': {
        if (!info) return undefined;
        const step = stepOf(event.stage, event.step);
        const prefix = step === lastStep ? '  ' : `  [${step}] `;
        return dim(`${prefix}│ ${event.line}`);
      }
      case 'step-cached':
        return info ? dim(`  [${stepOf(event.stage, event.step)}] cached`) : undefined;
      case 'snapshot-done':
        return debug
          ? dim(`  snapshot: ${event.changes} changes of ${event.entries} entries (${formatMs(event.ms)})`)
          : undefined;
      case 'layer-written':
        return info
          ? dim(`  layer ${shortDigest(event.digest)} ${formatBytes(event.size)} (${formatMs(event.ms)})`)
          : undefined;
      case 'step-done':
        return debug
          ? dim(`  [${stepOf(event.stage, event.step)}] done in ${formatMs(event.ms)}`)
          : undefined;
      case 'stage-done':
        return debug ? dim(`[${event.stage}] done in ${formatMs(event.ms)}`) : undefined;
      case 'push-progress': {
        const detail = event.detail;
        const blob = typeof detail.digest === 'string' ? shortDigest(detail.digest) : '';
        if (detail.kind === 'blob-done' && detail.direction === 'push' && info) {
          return dim(
            `  pushed blob ${blob} ${formatBytes(Number(detail.size ?? 0))} to ${event.destination}`,
          );
        }
        if (detail.kind === 'blob-mounted' && info)
          return dim(`  mounted blob ${blob} into ${event.destination}`);
        if (detail.kind === 'retry' && info) {
          return paint(33, `  retrying ${String(detail.operation ?? '')} (${String(detail.reason ?? '')})`);
        }
        if (debug && detail.kind !== 'blob-progress')
          return dim(`  ${detail.kind} ${event.destination} ${blob}`);
        return undefined;
      }
      case 'pushed':
        return info ? `${paint(32, 'pushed')} ${event.destination}@${event.digest}` : undefined;
      case 'output-written':
        return info ? dim(`wrote ${event.kind} ${event.path}`) : undefined;
      case 'image-done':
        return info
          ? `${paint(32, 'built')} ${event.digest} (${formatBytes(event.size)}, ${formatMs(event.ms)})`
          : undefined;
      case 'warning':
        return warn ? paint(33, `warning: ${event.message}`) : undefined;
    }
  }
  return { line, paint, dim };
}
