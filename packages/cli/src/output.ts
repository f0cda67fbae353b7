/** Where the CLI writes: the real streams in production, buffers in tests. */
export interface Output {
  /** Normal output (results, listings, JSON). */
  write: (text: string) => void;
  /** Diagnostics and progress. */
  error: (text: string) => void;
  /** Whether stderr is an interactive terminal (live progress) or a log (plain lines). */
  isTTY: boolean;
}

export function processOutput(): Output {
  return {
    write: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    error: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    isTTY: Boolean(process.stderr.isTTY),
  };
}
