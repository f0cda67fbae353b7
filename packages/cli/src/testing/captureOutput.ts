import type { Output } from '../output.ts';

/** An Output that keeps what the CLI writes, for tests that call runCli in-process. */
export function captureOutput(isTTY = false): Output & { out: string; err: string } {
  const captured = {
    out: '',
    err: '',
    isTTY,
    write: (text: string) => {
      captured.out += text;
    },
    error: (text: string) => {
      captured.err += text;
    },
  };
  return captured;
}
