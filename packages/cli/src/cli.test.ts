import { describe, expect, it } from 'vitest';
import { createProgram } from './cli.ts';
import { runCli } from './index.ts';
import { captureOutput } from './testing/captureOutput.ts';

describe('kiln CLI', () => {
  it('prints its version', async () => {
    const output = captureOutput();
    expect(await runCli(['--version'], output)).toBe(0);
    expect(output.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with a usage error', async () => {
    const output = captureOutput();
    expect(await runCli(['frobnicate'], output)).toBe(2);
    expect(output.err).toMatch(/^error: /);
    expect(output.out).toBe('');
  });

  it('loads only the command the line names; help and unknown names get every command', async () => {
    const names = async (args: string[]) =>
      (await createProgram(captureOutput(), args)).commands.map((command) => command.name());
    expect(await names(['snapshot', '/tmp'])).toEqual(['snapshot']);
    expect(await names(['executor', '--no-push'])).toEqual(['executor']);
    const every = ['build', 'executor', 'index', 'pull', 'push', 'snapshot', 'warm', 'warmer', 'parse'];
    expect(await names([])).toEqual(every);
    expect(await names(['--help'])).toEqual(every);
    expect(await names(['snapshto'])).toEqual(every);
    const output = captureOutput();
    expect(await runCli(['snapshto'], output)).toBe(2);
    expect(output.err).toMatch(/Did you mean snapshot\?/);
  });
});
