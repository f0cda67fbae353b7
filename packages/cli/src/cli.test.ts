import { describe, expect, it } from 'vitest';
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
});
