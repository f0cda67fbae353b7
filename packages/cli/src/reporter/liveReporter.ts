import type { BuildEvent } from '@kiln/builder';
import type { Output } from '../output.ts';
import type { BuildSummary, Reporter } from './createReporter.ts';
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
 * every running step (one per concurrent stage) with its time and latest output, and push bytes.
 * Each write ends with a newline (the Output contract); the footer is erased by moving the
 * cursor up over it and clearing to the end of the screen.
 */
export function liveReporter(output: Output, style: LineStyle, columns = 100): Reporter {
  const lines = createEventLines(style);
  const running = new Map<string, RunningStep>();
  const pushed = new Map<string, { bytes: number; total: number }>();
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
    if (pushed.size > 0) {
      let bytes = 0;
      let total = 0;
      for (const blob of pushed.values()) {
        bytes += blob.bytes;
        total += blob.total;
      }
      rows.push(`${spinner[frame % spinner.length]} pushing ${formatBytes(bytes)} / ${formatBytes(total)}`);
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
    if (timer || running.size + pushed.size === 0) return;
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
    pushed.clear();
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
      } else if (event.type === 'push-progress' && event.detail.kind === 'blob-progress') {
        const digest = String(event.detail.digest ?? '');
        pushed.set(`${event.destination} ${digest}`, {
          bytes: Number(event.detail.bytes ?? 0),
          total: Number(event.detail.total ?? 0),
        });
      } else if (event.type === 'pushed') {
        pushed.clear();
      }
      const line = lines.line(event);
      redraw(line === undefined ? [] : [line]);
      ensureTimer();
    },
    finish(summary: BuildSummary) {
      stop();
      output.write(`${summary.digest}\n`);
      for (const destination of summary.destinations) output.write(`${destination}@${summary.digest}\n`);
    },
    fail() {
      stop();
    },
  };
}
