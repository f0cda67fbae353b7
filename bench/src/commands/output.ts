/** Where commands write; injected so tests read what a user would see. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** A transient status line (overwritten by the next); only on a terminal. */
  status?: (text: string) => void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  ...(process.stdout.isTTY
    ? {
        status: (text: string) =>
          process.stdout.write(`\r\x1b[2K${text.slice(0, process.stdout.columns - 1)}`),
      }
    : {}),
};
