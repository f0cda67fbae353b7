import { ensureBusyboxImage } from '@kiln/fixtures/images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutorTestbed, startExecutorTestbed, writeWorkspace } from './executor/executorTestbed.ts';

// Container mode has no mounts: a `#!` heredoc is written into the container's own /dev (a mount
// the snapshot skips) for the RUN, and removed after it.
let testbed: ExecutorTestbed;
beforeAll(async () => {
  testbed = await startExecutorTestbed('heredoc');
  await ensureBusyboxImage(testbed.imageRegistry);
}, 900_000);
afterAll(async () => {
  await testbed?.stop();
});

describe('the executor image in container mode', () => {
  it('runs a #! heredoc as a file in /dev/pipes and leaves nothing behind', {
    timeout: 600_000,
  }, async () => {
    const workspace = await writeWorkspace(testbed, 'executor-heredoc');
    const build = await testbed.podman.run(
      ['run', '--rm', '--volume', `${workspace}:/workspace`, testbed.executor.latest.reference, '--no-push'],
      { timeoutMs: 600_000 },
    );
    const output = build.stdout + build.stderr;
    expect(build.code, output).toBe(0);
    expect(output).toContain('script ran as /dev/pipes/EOF');
    expect(output).toContain('script removed');
  });
});
