import type { BuildEvent } from '@kiln/builder';
import type { Output } from '../output.ts';
import type { CommandResult, Reporter } from './createReporter.ts';
import { createEventLines, type LineStyle } from './eventLines.ts';
import { formatBytes, formatMs } from './formatting.ts';

interface RunningStep {
  label: string;
  instruction: string;
  started: number;
  lastLine?: string;
}

const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const refreshMs = 120;

/**
 * A terminal view: finished lines scroll as in plain mode, and a footer redrawn in place shows
 * every running step (one per concurrent stage) with its time and latest output, and the bytes of
 * the blobs being pushed and pulled.
 * Each write ends with a newline (the Output contract); the footer is erased by moving the
 * cursor up over it and clearing to the end of the screen.
 */
export function liveReporter(output: Output, style: LineStyle, columns = 100): Reporter {
  const lines = createEventLines(style);
  const running = new Map<string, RunningStep>();
  /** Blobs in flight, by direction and digest. */
  const transfers = new Map<string, { direction: 'push' | 'pull'; bytes: number; total: number }>();
  let footerHeight = 0;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const fit = (text: string) => (text.length > columns - 1 ? `${text.slice(0, columns - 2)}…` : text);
  const footer = (): string[] => {
    const rows = [...running.values()].map((step) => {
      const elapsed = formatMs(Date.now() - step.started);
      const tail = step.lastLine ? lines.dim(` │ ${step.lastLine}`) : '';
      return fit(`${spinner[frame % spinner.length]} ${step.label} ${step.instruction} (${elapsed})${tail}`);
    });
    for (const direction of ['push', 'pull'] as const) {
      let bytes = 0;
      let total = 0;
      for (const blob of transfers.values()) {
        if (blob.direction !== direction) continue;
        bytes += blob.bytes;
        total += blob.total;
      }
      if (total === 0) continue;
      const verb = direction === 'push' ? 'pushing' : 'pulling';
      rows.push(`${spinner[frame % spinner.length]} ${verb} ${formatBytes(bytes)} / ${formatBytes(total)}`);
    }
    return rows;
  };
  const redraw = (permanent: string[] = [], final = false) => {
    const rows = footer();
    // Erasing with nothing to write would leave a blank line (every write ends in a newline):
    // keep the stale footer until the next write replaces it, except at the very end.
    if (permanent.length === 0 && rows.length === 0 && !final) return;
    const erase = footerHeight > 0 ? `\x1b[${footerHeight}A\x1b[0J` : '';
    const text = [...permanent, ...rows];
    footerHeight = rows.length;
    if (erase === '' && text.length === 0) return;
    output.error(`${erase}${text.join('\n')}${text.length > 0 ? '\n' : ''}`);
  };
  const ensureTimer = () => {
    if (timer || running.size + transfers.size === 0) return;
    timer = setInterval(() => {
      frame++;
      redraw();
    }, refreshMs);
    timer.unref();
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    running.clear();
    transfers.clear();
    redraw([], true);
  };

  return {
    onEvent(event: BuildEvent) {
      const key = 'stage' in event && 'step' in event ? `${event.stage} ${event.step}` : '';
      if (event.type === 'step-started') {
        running.set(key, {
          label: `[${event.stage} ${event.step}/${event.steps}]`,
          instruction: event.instruction,
          started: Date.now(),
        });
      } else if (event.type === 'step-done') {
        running.delete(key);
      } else if (event.type === 'run-output') {
        const step = running.get(key);
        if (step) step.lastLine = event.line;
      } else if (event.type === 'registry') {
        const inner = event.event;
        if (inner.type === 'blob-progress') {
          transfers.set(`${inner.direction} ${inner.digest}`, {
            direction: inner.direction,
            bytes: inner.bytes,
            total: inner.total,
          });
        } else if (inner.type === 'blob-done') {
          transfers.delete(`${inner.direction} ${inner.digest}`);
        }
      }
      const line = lines.line(event);
      redraw(line === undefined ? [] : [line]);
      ensureTimer();
    },
    finish(result: CommandResult) {
      stop();
      if (result.text !== '') output.write(result.text);
    },
    fail() {
      stop();
    },
  };
}
