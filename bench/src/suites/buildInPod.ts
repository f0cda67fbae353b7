import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { buildExecutorImage } from '@kiln/executor-image';
import type { PushedImage } from '@kiln/fixtures/images';
import { type PodmanEnvironment, preparePodman } from '@kiln/fixtures/podman';
import type { TestRegistry } from '@kiln/fixtures/registry';
import type { BenchCase, Contender, SuiteContext } from '../framework/suite.ts';

export interface BuildInPodOptions {
  /** The case is `build-in-pod/<example>`. */
  example: string;
  /** The plain registry holding the base image; the executor image and every destination go there too. */
  registry: TestRegistry;
  /** The build context (its Dockerfile takes `ARG BASE`). */
  contextDir: string;
  base: PushedImage;
  /** Kiln on the host, cold: what the in-pod figures are set against. */
  baseline: Contender;
}

const podmanTimeoutMs = 600_000;

/**
 * Kiln's executor image as a pipeline runs it in a default pod, for the peers' Kaniko figures in
 * shared/PEERS.md: a fresh `podman run --rm` per build (runc, host network, the pod's seccomp profile, uid 0 with default
 * capabilities), the context at /workspace, config.json at /kaniko/.docker, push to the plain registry.
 * Each run is timed as the pipeline sees it, container start included; the image is pulled beforehand,
 * as a node that ran the job before has it. The executor image is built from this tree in `setup`.
 */
export function buildInPodCase(ctx: SuiteContext, options: BuildInPodOptions): BenchCase {
  const { registry, example } = options;
  const work = join(ctx.workDir, 'in-pod');
  const dockerDir = join(work, 'docker');
  let podman: PodmanEnvironment | undefined;
  let executor: PushedImage | undefined;
  let coldRun = 0;
  const cacheRepo = `${registry.host}/bench/${example}-in-pod-cache`;
  const fleetDestination = `${registry.host}/bench/${example}-in-pod-fleet:latest`;

  const executorRun = async (destination: string, extra: string[]): Promise<undefined> => {
    if (!podman || !executor) throw new KilnError('BENCH_COMMAND_FAILED', 'build-in-pod: setup did not run');
    const result = await podman.run(
      [
        'run',
        '--rm',
        '--volume',
        `${options.contextDir}:/workspace`,
        '--volume',
        `${dockerDir}:/kaniko/.docker`,
        executor.reference,
        '--build-arg',
        `BASE=${options.base.reference}`,
        '--destination',
        destination,
        '--insecure-registry',
        registry.host,
        ...extra,
      ],
      { timeoutMs: podmanTimeoutMs },
    );
    if (result.code !== 0) {
      const tail = (result.stdout + result.stderr).trim().split('\n').slice(-5).join('\n');
      throw new KilnError('BENCH_COMMAND_FAILED', `executor in podman exited with ${result.code}: ${tail}`);
    }
    return undefined;
  };
  const fleetWarm = () => executorRun(fleetDestination, ['--cache', '--cache-repo', cacheRepo]);

  return {
    name: `build-in-pod/${example}`,
    setup: async () => {
      await rm(work, { recursive: true, force: true });
      await mkdir(dockerDir, { recursive: true });
      // The registry is plain HTTP without auth; the file is there because pipelines always mount one.
      await writeFile(join(dockerDir, 'config.json'), '{ "auths": {} }\n');
      ctx.note('building the executor image from this tree (kiln build of images/executor)');
      const images = await buildExecutorImage({
        registry,
        repository: 'bench/kiln-executor',
        contextDir: join(work, 'executor-context'),
      });
      await rm(images.staged.dir, { recursive: true, force: true });
      executor = images.latest;
      podman = await preparePodman(join(work, 'podman'), { insecureRegistries: [registry.host] });
      const pull = await podman.run(['pull', '--quiet', executor.reference], { timeoutMs: podmanTimeoutMs });
      if (pull.code !== 0) {
        throw new KilnError(
          'BENCH_COMMAND_FAILED',
          `podman pull ${executor.reference}: ${pull.stderr.trim()}`,
        );
      }
      // Fills the cache repository once; every fleet-warm run is then a fresh container that only has it.
      ctx.note('filling the in-pod cache repository (one untimed build)');
      await fleetWarm();
    },
    teardown: async () => {
      await podman?.run(['system', 'reset', '--force'], { timeoutMs: podmanTimeoutMs });
    },
    baseline: options.baseline,
    contenders: [
      {
        name: 'kiln executor in pod, cold',
        // A new destination repository each run and no cache: nothing to reuse.
        before: async () => {
          coldRun++;
        },
        run: async () =>
          await executorRun(`${registry.host}/bench/${example}-in-pod-cold-${coldRun}:latest`, []),
      },
      { name: 'kiln executor in pod, fleet-warm', run: fleetWarm },
    ],
    targets: [
      {
        contender: 'kiln executor in pod, cold',
        note: 'Kaniko v1.24 in a pod: 12–18 s (peers’ figures in shared/PEERS.md); aim ≤ 0.7× that',
      },
      { contender: 'kiln executor in pod, fleet-warm', maxMs: 1000, note: 'under 1 s (Kaniko: 11.7 s)' },
    ],
  };
}
