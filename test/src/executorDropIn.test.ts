import { ensureBusyboxImage } from '@kiln/fixtures/images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutorTestbed, startExecutorTestbed, writeWorkspace } from './executor/executorTestbed.ts';
import { readManifest, runPushedImage } from './executor/registryImage.ts';

// Kaniko behaviour pipelines rely on beyond the four of PIPELINES.md, and the figures the issue asks
// for: the executor image's compressed size and its time from container start to the first step.
let testbed: ExecutorTestbed;
beforeAll(async () => {
  testbed = await startExecutorTestbed('drop-in');
  await ensureBusyboxImage(testbed.imageRegistry);
  // Pulled once up front, so no measurement below includes the pull.
  for (const image of [testbed.executor.latest, testbed.executor.debug]) {
    const pull = await testbed.podman.run(['pull', '--quiet', image.reference], { timeoutMs: 300_000 });
    if (pull.code !== 0) throw new Error(`podman pull ${image.reference}: ${pull.stderr}`);
  }
}, 600_000);
afterAll(async () => {
  await testbed?.stop();
});

describe('the executor image as a drop-in for Kaniko’s', () => {
  it('exits with a failing RUN’s exit code, after its output, and runs nothing after it', {
    timeout: 600_000,
  }, async () => {
    const workspace = await writeWorkspace(testbed, 'executor-failing');
    // Default context /workspace and Dockerfile, Kaniko's `--no-push` spelled as pflag writes it.
    const build = await testbed.podman.run(
      [
        'run',
        '--rm',
        '--volume',
        `${workspace}:/workspace`,
        testbed.executor.latest.reference,
        '--no-push=true',
      ],
      { timeoutMs: 600_000 },
    );
    const output = build.stdout + build.stderr;
    expect(output).toContain('about to fail');
    expect(output).not.toContain('never runs');
    expect(output).not.toMatch(/internal error/i);
    expect(build.code, output).toBe(7);
  });

  it('survives a RUN that empties /tmp, and pushes every layer', { timeout: 600_000 }, async () => {
    const workspace = await writeWorkspace(testbed, 'executor-tmp-cleanup');
    const destination = `${testbed.imageRegistry.host}/e2e/tmp-cleanup:1`;
    const build = await testbed.podman.run(
      [
        'run',
        '--rm',
        '--volume',
        `${workspace}:/workspace`,
        testbed.executor.latest.reference,
        `--destination=${destination}`,
      ],
      { timeoutMs: 600_000 },
    );
    const output = build.stdout + build.stderr;
    expect(output).toContain('tmp emptied');
    expect(build.code, output).toBe(0);
    // busybox and /kept; the other RUNs change nothing outside the ignored paths.
    expect((await readManifest(testbed.imageRegistry, destination)).layers).toHaveLength(2);
    const run = await runPushedImage(testbed.podman, testbed.imageRegistry, destination);
    expect(run.stdout).toBe('written before the cleanup\n');
  });

  it('weighs little and reaches its first build step quickly (figures printed for the README)', {
    timeout: 600_000,
  }, async () => {
    const sizes: Record<string, number> = {};
    for (const variant of ['latest', 'debug'] as const) {
      const manifest = await readManifest(testbed.imageRegistry, testbed.executor[variant].reference);
      sizes[variant] = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    }

    const workspace = await writeWorkspace(testbed, 'executor-startup');
    const name = `kiln-startup-${process.pid}`;
    const spawned = Date.now();
    const build = await testbed.podman.run(
      [
        'run',
        '--name',
        name,
        '--volume',
        `${workspace}:/workspace`,
        testbed.executor.latest.reference,
        '--no-push',
        '--log-format=json',
        // Kaniko flags that need no action in Kiln are accepted as they are.
        '--cleanup',
        '--snapshotMode=redo',
      ],
      { timeoutMs: 600_000 },
    );
    const inspect = await testbed.podman.run(['inspect', '--format', '{{.State.StartedAt}}', name]);
    await testbed.podman.run(['rm', '--force', name]);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const started = Date.parse(
      inspect.stdout
        .trim()
        .replace(/ \+0000 UTC.*$/, 'Z')
        .replace(' ', 'T'),
    );
    const events = build.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { time: string; type: string });
    const at = (type: string) => Date.parse(events.find((event) => event.type === type)?.time ?? '');
    const figures = {
      latestCompressedMB: +(sizes.latest! / 1e6).toFixed(1),
      debugCompressedMB: +(sizes.debug! / 1e6).toFixed(1),
      startToBuildStartedMs: at('build-started') - started,
      startToFirstStepMs: at('step-started') - started,
      podmanRunToFirstStepMs: at('step-started') - spawned,
    };
    console.info(`executor image figures: ${JSON.stringify(figures)}`);
    expect(Number.isFinite(started), inspect.stdout).toBe(true);
    expect(figures.startToFirstStepMs).toBeGreaterThan(0);
    // Bounds with room for a loaded CI machine; a regression by a multiple still shows.
    expect(figures.latestCompressedMB).toBeLessThan(80);
    expect(figures.debugCompressedMB - figures.latestCompressedMB).toBeLessThan(2);
    expect(figures.startToFirstStepMs).toBeLessThan(30_000);
  });
});
