import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { buildExecutorImage } from '@kiln/executor-image';
import type { PushedImage } from '@kiln/fixtures/images';
import { type PodmanEnvironment, preparePodman } from '@kiln/fixtures/podman';
import type { TestRegistry } from '@kiln/fixtures/registry';
import type { BenchCase, BenchTarget, Contender, Sample, SuiteContext } from '../framework/suite.ts';
import { watchPodMemory } from './podMemory.ts';

export interface BuildInPodOptions {
  /** The case is `build-in-pod/<example>`. */
  example: string;
  /** The plain registry holding the base image; the executor image and every destination go there too. */
  registry: TestRegistry;
  /** The build context (its Dockerfile takes `ARG BASE`). */
  contextDir: string;
  base: PushedImage;
  /** Kiln on the host, cold: the baseline when no Kaniko image is given. */
  baseline: Contender;
  /** The largest Kiln cold / Kaniko cold ratio the case aims for (when Kaniko runs). */
  maxRatioToKaniko: number;
}

const podmanTimeoutMs = 900_000;

/** `KILN_BENCH_KANIKO_IMAGE`: the real Kaniko executor image to measure against (e.g. built by shared/peers/kaniko-peer.sh). */
export function kanikoImage(): string | undefined {
  const image = process.env.KILN_BENCH_KANIKO_IMAGE?.trim();
  return image ? image : undefined;
}

/** Kiln's executor image is built once per bench run and shared by every in-pod case. */
let executorImage: Promise<PushedImage> | undefined;

function ensureExecutorImage(ctx: SuiteContext, registry: TestRegistry): Promise<PushedImage> {
  executorImage ??= (async () => {
    ctx.note('building the executor image from this tree (kiln build of images/executor)');
    const images = await buildExecutorImage({
      registry,
      repository: 'bench/kiln-executor',
      contextDir: join(ctx.workDir, 'in-pod-executor-context'),
    });
    await rm(images.staged.dir, { recursive: true, force: true });
    return images.latest;
  })();
  return executorImage;
}

const kilnCold = 'kiln executor in pod, cold';
const kilnFleet = 'kiln executor in pod, fleet-warm';
const kanikoCold = 'kaniko in pod, cold';
const kanikoFleet = 'kaniko in pod, fleet-warm';

/**
 * Kiln's executor image as a pipeline runs it in a default pod, against the real Kaniko image when
 * `KILN_BENCH_KANIKO_IMAGE` names one (then Kaniko cold is the baseline): a fresh `podman run --rm` per
 * build (runc, host network, the pod's seccomp profile, uid 0 with default capabilities), the context at
 * /workspace, config.json at /kaniko/.docker, push to the plain registry. Each run is timed as the
 * pipeline sees it, container start included; the images are pulled beforehand, as a node that ran the
 * job before has them. Peak memory is the container's cgroup's (podMemory.ts).
 */
export function buildInPodCase(ctx: SuiteContext, options: BuildInPodOptions): BenchCase {
  const { registry, example } = options;
  const kaniko = kanikoImage();
  const work = join(ctx.workDir, 'in-pod', example);
  const dockerDir = join(work, 'docker');
  let podman: PodmanEnvironment | undefined;
  let podmanDir: string | undefined;
  let executor: PushedImage | undefined;
  let run = 0;
  const repository = (who: string, kind: string) => `${registry.host}/bench/${example}-${who}-${kind}`;

  const podRun = async (image: string, args: string[]): Promise<Sample> => {
    if (!podman) throw new KilnError('BENCH_COMMAND_FAILED', 'build-in-pod: setup did not run');
    const memory = await watchPodMemory();
    const start = process.hrtime.bigint();
    const result = await podman.run(
      [
        'run',
        '--rm',
        '--cgroup-parent',
        memory.cgroupParent,
        '--volume',
        `${options.contextDir}:/workspace`,
        '--volume',
        `${dockerDir}:/kaniko/.docker`,
        image,
        ...args,
      ],
      { timeoutMs: podmanTimeoutMs },
    );
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const peaks = await memory.stop();
    if (result.code !== 0) {
      const tail = (result.stdout + result.stderr).trim().split('\n').slice(-5).join('\n');
      throw new KilnError('BENCH_COMMAND_FAILED', `${image} in podman exited with ${result.code}: ${tail}`);
    }
    return { ms, ...peaks };
  };
  const kilnRun = (destination: string, extra: string[]) => {
    if (!executor) throw new KilnError('BENCH_COMMAND_FAILED', 'build-in-pod: setup did not run');
    return podRun(executor.reference, [
      '--build-arg',
      `BASE=${options.base.reference}`,
      '--destination',
      destination,
      '--insecure-registry',
      registry.host,
      ...extra,
    ]);
  };
  // Kaniko's flags for a plain-HTTP registry, as its users pass them for an in-cluster one.
  const kanikoRun = (destination: string, extra: string[]) =>
    podRun(kaniko!, [
      '--context',
      'dir:///workspace',
      '--dockerfile',
      '/workspace/Dockerfile',
      '--build-arg',
      `BASE=${options.base.reference}`,
      '--destination',
      destination,
      '--insecure',
      '--insecure-pull',
      '--skip-tls-verify',
      '--skip-tls-verify-pull',
      ...extra,
    ]);
  const kilnFleetRun = () =>
    kilnRun(`${repository('kiln', 'fleet')}:latest`, [
      '--cache',
      '--cache-repo',
      repository('kiln', 'cache'),
    ]);
  const kanikoFleetRun = () =>
    kanikoRun(`${repository('kaniko', 'fleet')}:latest`, [
      '--cache=true',
      `--cache-repo=${repository('kaniko', 'cache')}`,
    ]);

  const kilnContenders: Contender[] = [
    {
      name: kilnCold,
      // A new destination repository each run and no cache: nothing to reuse.
      before: async () => {
        run++;
      },
      run: () => kilnRun(`${repository('kiln', `cold-${run}`)}:latest`, []),
    },
    { name: kilnFleet, run: kilnFleetRun },
  ];
  const kanikoColdContender: Contender = {
    name: kanikoCold,
    before: async () => {
      run++;
    },
    run: () => kanikoRun(`${repository('kaniko', `cold-${run}`)}:latest`, []),
  };
  const targets: BenchTarget[] = kaniko
    ? [
        {
          contender: kilnCold,
          maxRatio: options.maxRatioToKaniko,
          note: `Kaniko v1.24 cold in the same pod setup; aim ≤ ${options.maxRatioToKaniko}×`,
        },
        { contender: kilnFleet, maxMs: 300, note: 'under 0.3 s' },
        { contender: kilnFleet, against: kanikoFleet, note: 'against Kaniko with its registry cache' },
      ]
    : [
        { contender: kilnCold, note: 'set KILN_BENCH_KANIKO_IMAGE to measure Kaniko in the same run' },
        { contender: kilnFleet, maxMs: 300, note: 'under 0.3 s' },
      ];

  return {
    name: `build-in-pod/${example}`,
    setup: async () => {
      await rm(work, { recursive: true, force: true });
      await mkdir(dockerDir, { recursive: true });
      // The registry is plain HTTP without auth; the file is there because pipelines always mount one.
      await writeFile(join(dockerDir, 'config.json'), '{ "auths": {} }\n');
      executor = await ensureExecutorImage(ctx, registry);
      // A short path: under a long one (the bench's work dir) every podman run waits 20 s more, as
      // conmon's socket paths outgrow the 108 bytes a unix socket address holds.
      podmanDir = await mkdtemp(join(tmpdir(), 'kb-pod-'));
      podman = await preparePodman(podmanDir, { insecureRegistries: [registry.host] });
      for (const image of [executor.reference, ...(kaniko ? [kaniko] : [])]) {
        const pull = await podman.run(['pull', '--quiet', image], { timeoutMs: podmanTimeoutMs });
        if (pull.code !== 0) {
          throw new KilnError('BENCH_COMMAND_FAILED', `podman pull ${image}: ${pull.stderr.trim()}`);
        }
      }
      // Fills the cache repositories once; every fleet-warm run is then a fresh container that only has them.
      ctx.note(`build-in-pod/${example}: filling the cache repositories (untimed builds)`);
      await kilnFleetRun();
      if (kaniko) await kanikoFleetRun();
    },
    teardown: async () => {
      await podman?.run(['system', 'reset', '--force'], { timeoutMs: podmanTimeoutMs });
      if (podmanDir) await rm(podmanDir, { recursive: true, force: true });
    },
    baseline: kaniko ? kanikoColdContender : options.baseline,
    contenders: kaniko ? [...kilnContenders, { name: kanikoFleet, run: kanikoFleetRun }] : kilnContenders,
    targets,
  };
}
