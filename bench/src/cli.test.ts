import { describe, expect, it } from 'vitest';
import { runCli, USAGE } from './cli.ts';
import type { Output } from './commands/output.ts';

function capture(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), err: (t) => lines.push(t) };
}

describe('runCli', () => {
  it('prints the usage for --help and exits 0', async () => {
    const output = capture();
    await runCli(['--help'], output);
    expect(output.lines).toEqual([USAGE]);
  });

  it('refuses a missing command, an unknown flag and a bad count with BENCH_USAGE, exit code 2', async () => {
    for (const argv of [
      [],
      ['all', '--quik'],
      ['all', '--runs', '0'],
      ['compare', 'a.json', 'b.json', '--threshold', 'x'],
    ]) {
      await expect(runCli(argv, capture())).rejects.toMatchObject({ code: 'BENCH_USAGE', exitCode: 2 });
    }
  });
});
