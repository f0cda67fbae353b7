import { parseDockerfile } from '@kiln/dockerfile';
import { hostPlatform } from '@kiln/image';
import type { PulledImage } from './base/imageSource.ts';
import type { BuildEnvironment, BuildInput } from './buildOptions.ts';
import { LazyRoots } from './cache/lazyRoots.ts';
import { readContextIgnore } from './context/readIgnoreFile.ts';
import type { BuildEvent } from './events.ts';
import { checkForeignRuns } from './executor/checkForeignRuns.ts';
import { checkRunEntitlements } from './executor/entitlements.ts';
import { assembleImage, type BuiltImage } from './image/assembleImage.ts';
import { type PlannedStage, planStages } from './plan/planStages.ts';
import { platformArgs } from './plan/platformArgs.ts';
import { BuildSecrets } from './secrets/buildSecrets.ts';
import { checkRequiredMounts } from './secrets/checkRequiredMounts.ts';
import { type ArgSources, isProxyArg } from './stage/argScope.ts';
import type { BuildContext } from './stage/buildContext.ts';
import { buildStage } from './stage/buildStage.ts';
import { startBasePulls } from './stage/stageSources.ts';
import type { StageState } from './stage/stageState.ts';
import { type WorkerPools, withWorkerPools } from './workerPools.ts';

export interface BuiltStages {
  image: BuiltImage;
  /** The target stage's name. */
  target: string;
  /** Build args given but declared nowhere (Docker warns about them). */
  unusedBuildArgs: string[];
}

/**
 * Builds the target stage of a Dockerfile into an image in `env.store`: plans the stages, builds
 * them (independent ones at once when the executor allows), assembles config and manifest.
 */
export function buildImage(input: BuildInput, env: BuildEnvironment): Promise<BuiltStages> {
  return withWorkerPools((pools) => buildWithPools(input, env, pools));
}

async function buildWithPools(
  input: BuildInput,
  env: BuildEnvironment,
  pools: WorkerPools,
): Promise<BuiltStages> {
  const emit = (event: BuildEvent) => env.onEvent?.(event);
  const dockerfile = parseDockerfile(input.dockerfileText, { fileName: input.dockerfileName });
  const platform = input.platform ?? hostPlatform();
  const automaticArgs = platformArgs(platform, hostPlatform());
  const plan = planStages(dockerfile, {
    ...(input.target ? { target: input.target } : {}),
    buildArgs: input.buildArgs,
    automaticArgs,
  });
  checkRunEntitlements(dockerfile, plan, { allow: input.allow ?? [], network: input.network ?? 'host' });
  await checkForeignRuns(dockerfile, plan, {
    executor: env.executor.kind,
    target: platform,
    host: hostPlatform(),
  });
  if (env.secrets) await env.secrets.check();
  checkRequiredMounts(dockerfile, plan, env.secrets ?? new BuildSecrets());
  const args: ArgSources = {
    buildArgs: input.buildArgs,
    globalArgs: plan.globalArgs,
    automaticArgs,
    consumed: new Set(plan.globalArgs.keys()),
  };
  const targetStage = plan.stages[plan.target]!;
  if (input.snapshotStrategy === 'overlay') {
    // Capturing RUN through an overlayfs upper dir is not built yet: say so rather than fail.
    emit({ type: 'warning', message: 'snapshot mode overlay is not available yet; using incremental' });
  }
  emit({
    type: 'build-started',
    stages: plan.order.map((index) => plan.stages[index]!.name),
    target: targetStage.name,
    executor: env.executor.kind,
  });
  // Independent stages build at once when the executor has a root per stage; the first failure
  // stops the others (their RUNs are killed) and is the one reported.
  const failFast = new AbortController();
  const bases = new Map<string, Promise<PulledImage>>();
  startBasePulls({ env, plan, platform, bases });
  const context: BuildContext = {
    input,
    env,
    dockerfile,
    plan,
    args,
    isIgnored: await readContextIgnore(input.contextDir, input.dockerfilePath),
    created: input.reproducible
      ? new Date((input.sourceDateEpoch ?? 0) * 1000).toISOString()
      : new Date().toISOString(),
    ignore: [...env.executor.ignoredPaths().map((rule) => rule.path), ...input.ignorePaths].map((path) =>
      path.replace(/^\/+/, ''),
    ),
    built: new Map<number, StageState>(),
    emit,
    platform,
    signal: env.signal ? AbortSignal.any([env.signal, failFast.signal]) : failFast.signal,
    lazy: env.shared?.lazy ?? new LazyRoots(),
    pools,
    bases,
  };
  const { built } = context;
  const { shared } = env;
  const buildOne = (stage: PlannedStage) =>
    shared ? shared.build(context, stage) : buildStage(context, stage);
  if (env.executor.concurrentStages) {
    const running = new Map<number, Promise<void>>();
    const start = (index: number): Promise<void> => {
      let promise = running.get(index);
      if (!promise) {
        const stage = plan.stages[index]!;
        promise = Promise.all(stage.dependencies.map(start)).then(async () => {
          built.set(index, await buildOne(stage));
        });
        promise.catch((error: unknown) => failFast.abort(error));
        running.set(index, promise);
      }
      return promise;
    };
    const results = await Promise.allSettled(plan.order.map(start));
    if (results.some((result) => result.status === 'rejected'))
      throw env.signal?.aborted ? env.signal.reason : failFast.signal.reason;
  } else {
    for (const index of plan.order) built.set(index, await buildOne(plan.stages[index]!));
  }
  const final = built.get(plan.target)!;
  if (Object.keys(input.labels).length > 0) {
    final.config.config.Labels = { ...(final.config.config.Labels ?? {}), ...input.labels };
  }
  const image = await assembleImage(final, env.store, input.imageFormat ?? 'oci', input.annotations);
  const unusedBuildArgs = [...input.buildArgs.keys()].filter(
    (name) => !args.consumed.has(name) && !isProxyArg(name),
  );
  for (const name of unusedBuildArgs)
    emit({
      type: 'warning',
      message: `build arg ${name} was given but the Dockerfile declares no ARG ${name}`,
    });
  return { image, target: targetStage.name, unusedBuildArgs };
}
