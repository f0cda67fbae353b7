import type { Output } from './output.ts';

/**
 * Kaniko's `--log-timestamp`: every diagnostic line starts with the time it was written. Results
 * on stdout (the digest) stay bare so scripts can read them.
 */
export function timestampedOutput(output: Output, now: () => Date = () => new Date()): Output {
  return {
    write: output.write,
    error: (text) => {
      const stamp = now().toISOString();
      const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
      output.error(`${lines.map((line) => `${stamp} ${line}`).join('\n')}\n`);
    },
    // Live progress redraws lines; timestamped output is a log.
    isTTY: false,
  };
}
