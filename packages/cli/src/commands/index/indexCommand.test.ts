import { describe, expect, it } from 'vitest';
import { runCli } from '../../index.ts';
import { captureOutput } from '../../testing/captureOutput.ts';

describe('kiln index create', () => {
  it('needs --tag unless --dry-run: exit 2, one error and a hint', async () => {
    const output = captureOutput();
    expect(await runCli(['index', 'create', '127.0.0.1:1/app:1-amd64'], output)).toBe(2);
    expect(output.err).toMatch(
      /^error: kiln index create needs --tag DEST\n {2}hint: e\.g\. kiln index create/,
    );
    expect(output.out).toBe('');
  });
});
