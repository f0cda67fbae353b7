import { describe, expect, it } from 'vitest';
import { measureCommand } from './measureCommand.ts';

describe('measureCommand', () => {
  it('reports a larger peak RSS for a process that holds more memory', async () => {
    const small = await measureCommand('bash', ['-c', 'true']);
    const large = await measureCommand(process.execPath, [
      '-e',
      'globalThis.b = Buffer.alloc(96 * 2 ** 20, 1)',
    ]);
    expect(small.rssMiB).toBeGreaterThan(0);
    expect(large.rssMiB).toBeGreaterThan(small.rssMiB! + 64);
  });

  it('fails with BENCH_COMMAND_FAILED and the last stderr line on a non-zero exit', async () => {
    const failure = measureCommand('bash', ['-c', 'echo "tar: no such file" >&2; exit 3']);
    await expect(failure).rejects.toMatchObject({ code: 'BENCH_COMMAND_FAILED' });
    await expect(failure).rejects.toThrow('tar: no such file');
  });

  it('fails with BENCH_COMMAND_FAILED when the command does not exist', async () => {
    await expect(measureCommand('kiln-bench-no-such-command', [])).rejects.toMatchObject({
      code: 'BENCH_COMMAND_FAILED',
    });
  });
});
