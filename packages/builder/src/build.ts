import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dockerfile, Instruction } from '@kiln/dockerfile';
import { createIgnoreMatcher, expandWord, parseDockerfile, parseDockerignore } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import type { HistoryEntry, Platform } from '@kiln/image';
import { extractImageLayers } from './base/extractImageLayers.ts';
import type { PulledImage } from './base/imageSource.ts';
import type { BuildEnvironment, BuildInput } from './buildOptions.ts';
import { LazyRoots } from './cache/lazyRoots.ts';
import { stepCacheKey } from './cacheKey.ts';
import type { CopySource } from './copy/copyInstruction.ts';
import { copyInstruction } from './copy/copyInstruction.ts';
import type { BuildEvent } from './events.ts';
import { assembleImage, type BuiltImage } from './image/assembleImage.ts';
import type { CachedStep } from './layerCache.ts';
import { type BuildPlan, findStage, type PlannedStage, planStages } from './plan/planStages.ts';
import { hostPlatform, parsePlatform, platformArgs } from './plan/platform.ts';
import { type ArgSources, declareArgs, runArgs } from './stage/argScope.ts';
import { LayerRecorder, type RecordedLayer } from './stage/layerRecorder.ts';
import { describeLocation, instructionSummary } from './stage/location.ts';
import {
  applyMetadataInstruction,
  isMetadataInstruction,
  type MetadataContext,
  nopCreatedBy,
} from './stage/metadataInstructions.ts';
import { imagePathOf, resolveInRoot } from './stage/resolveInRoot.ts';
import { runCreatedBy, runInstruction } from './stage/runInstruction.ts';
import type { RunMountContext } from './stage/runMounts.ts';
import type { StageLayer, StageState } from './stage/stageState.ts';
import { stageLookup } from './stage/stageState.ts';

export interface BuildResult {
  image: BuiltImage;
  /** The target stage's name. */
  target: string;
  /** Build args given but declared nowhere (Docker warns about them). */
  unusedBuildArgs: string[];
}

/**
 * Builds the target stage of a Dockerfile into an image in `env.store`: plans the stages, pulls
 * bases, executes each instruction, snapshots, writes layers and assembles config and manifest.
 * Outputs (push, tar, layout) are the caller's next step (`writeOutputs`).
 */
export async function buildImage(input: BuildInput, env: BuildEnvironment): Promise<BuildResult> {
  const started = performance.now();
  const emit = (event: BuildEvent) => env.onEvent?.(event);
  const dockerfile = parseDockerfile(input.dockerfileText, { fileName: input.dockerfileName });
  const targetPlatform = input.platform ?? hostPlatform();
  const automaticArgs = platformArgs(targetPlatform, hostPlatform());
  const plan = planStages(dockerfile, {
    ...(input.target ? { target: input.target } : {}),
    buildArgs: input.buildArgs,
    automaticArgs,
  });
  const args: ArgSources = {
    buildArgs: input.buildArgs,
    globalArgs: plan.globalArgs,
    automaticArgs,
    consumed: new Set(plan.globalArgs.keys()),
  };
  const isIgnored = await contextIgnoreMatcher(input.contextDir);
  const created = input.reproducible
    ? new Date((input.sourceDateEpoch ?? 0) * 1000).toISOString()
    : new Date().toISOString();
  const ignore = [
    ...env.executor.ignoredPaths().map((rule) => rule.path.replace(/^\/+/, '')),
    ...input.ignorePaths.map((path) => path.replace(/^\/+/, '')),
  ];
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

  const built = new Map<number, StageState>();
  // Independent stages build at once when the executor has a root per stage; the first failure
  // stops the others (their RUNs are killed) and is the one reported.
  const failFast = new AbortController();
  const signal = env.signal ? AbortSignal.any([env.signal, failFast.signal]) : failFast.signal;
  const context: StageContext = {
    input,
    env,
    dockerfile,
    plan,
    args,
    isIgnored,
    created,
    ignore,
    built,
    emit,
    platform: targetPlatform,
    signal,
    lazy: new LazyRoots(),
  };
  if (env.executor.concurrentStages) {
    const running = new Map<number, Promise<void>>();
    const start = (index: number): Promise<void> => {
      let promise = running.get(index);
      if (!promise) {
        const stage = plan.stages[index]!;
        promise = Promise.all(stage.dependencies.map(start)).then(async () => {
          built.set(index, await buildStage(context, stage));
        });
        promise.catch((error: unknown) => failFast.abort(error));
        running.set(index, promise);
      }
      return promise;
    };
    const results = await Promise.allSettled(plan.order.map(start));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw env.signal?.aborted ? env.signal.reason : failFast.signal.reason;
  } else {
    for (const index of plan.order) built.set(index, await buildStage(context, plan.stages[index]!));
  }
  const final = built.get(plan.target)!;
  if (Object.keys(input.labels).length > 0) {
    final.config.config.Labels = { ...(final.config.config.Labels ?? {}), ...input.labels };
  }
  const image = await assembleImage(final, env.store);
  const unusedBuildArgs = [...input.buildArgs.keys()].filter(
    (name) => !args.consumed.has(name) && !/_proxy$/i.test(name),
  );
  for (const name of unusedBuildArgs)
    emit({
      type: 'warning',
      message: `build arg ${name} was given but the Dockerfile declares no ARG ${name}`,
    });
  emit({
    type: 'image-done',
    digest: image.digest,
    configDigest: image.configDigest,
    size: image.size,
    destinations: [],
    ms: performance.now() - started,
  });
  return { image, target: targetStage.name, unusedBuildArgs };
}

interface StageContext {
  input: BuildInput;
  env: BuildEnvironment;
  dockerfile: Dockerfile;
  plan: BuildPlan;
  args: ArgSources;
  isIgnored: (path: string, isDir: boolean) => boolean;
  created: string;
  ignore: string[];
  built: Map<number, StageState>;
  emit: (event: BuildEvent) => void;
  platform: Platform;
  /** The caller's signal combined with the fail-fast of concurrent stages. */
  signal: AbortSignal;
  /** Layers of each stage not extracted yet: a fully cached stage never touches its root. */
  lazy: LazyRoots;
}

/** Extracts the stage's pending layers (fetching their blobs first) before something reads the root. */
async function materialiseRoot(
  context: StageContext,
  state: StageState,
  recorder?: LayerRecorder,
): Promise<void> {
  const extracted = await context.lazy.materialise(state, async (layers) => {
    await context.env.fetchBlobs?.(layers);
    await extractImageLayers(layers, state.root, context.env.store, context.ignore, context.signal);
  });
  if (extracted) recorder?.invalidate();
}

async function buildStage(context: StageContext, stage: PlannedStage): Promise<StageState> {
  const { env, emit } = context;
  const started = performance.now();
  const root = await env.executor.prepareRoot({ index: stage.index, name: stage.name });
  const state = await initialState(context, stage, root);
  const recorder = new LayerRecorder({
    store: env.store,
    strategy: context.input.snapshotStrategy === 'overlay' ? 'incremental' : context.input.snapshotStrategy,
    ignore: context.ignore,
    compression: context.input.compression,
    ...(context.input.compressionLevel === undefined ? {} : { level: context.input.compressionLevel }),
    ...(context.input.reproducible ? { sourceDateEpoch: context.input.sourceDateEpoch ?? 0 } : {}),
    signal: context.signal,
  });
  const triggers = state.onbuild;
  const instructions = [...triggers, ...stage.instructions];
  emit({
    type: 'stage-started',
    stage: stage.name,
    index: stage.index,
    base: stage.base,
    steps: instructions.length,
  });
  const metadata: MetadataContext = { escape: context.dockerfile.escape, cmdSetInStage: false };
  if (context.input.singleSnapshot) {
    await materialiseRoot(context, state.state);
    await recorder.ensureBaseline(root);
  }
  for (const [position, instruction] of instructions.entries()) {
    context.signal.throwIfAborted();
    const step = position + 1;
    const stepStarted = performance.now();
    const where = describeLocation(context.dockerfile, instruction);
    emit({
      type: 'step-started',
      stage: stage.name,
      step,
      steps: instructions.length,
      instruction: instructionSummary(instruction),
      line: instruction.startLine,
    });
    const outcome = await executeStep(context, stage, state.state, instruction, {
      step,
      where,
      metadata,
      recorder,
    });
    state.state.cacheKey = outcome.cacheKey;
    const entry: HistoryEntry = { created: context.created, created_by: outcome.createdBy };
    if (outcome.cached) emit({ type: 'step-cached', stage: stage.name, step, cacheKey: outcome.cacheKey });
    if (outcome.reused) {
      state.state.layers.push(outcome.reused);
    } else if (outcome.layer?.layer) {
      state.state.layers.push(outcome.layer.layer);
      emit({
        type: 'snapshot-done',
        stage: stage.name,
        step,
        entries: outcome.layer.entries,
        changes: outcome.layer.changes,
        ms: outcome.layer.snapshotMs,
      });
      emit({
        type: 'layer-written',
        stage: stage.name,
        step,
        digest: outcome.layer.layer.descriptor.digest,
        diffId: outcome.layer.layer.diffId,
        size: outcome.layer.layer.descriptor.size,
        ms: outcome.layer.layerMs,
      });
    } else {
      entry.empty_layer = true;
    }
    state.state.history.push(entry);
    const emptyLayer = entry.empty_layer === true;
    emit({
      type: 'step-done',
      stage: stage.name,
      step,
      ms: performance.now() - stepStarted,
      cacheKey: outcome.cacheKey,
      emptyLayer,
    });
  }
  if (context.input.singleSnapshot) {
    const recorded = await recorder.recordDiff(root);
    if (recorded.layer) {
      state.state.layers.push(recorded.layer);
      // One layer for the stage: the last step that changed files owns it in history.
      const last = [...state.state.history]
        .reverse()
        .find((entry) => entry.empty_layer === undefined && !entry.created_by?.includes('#(nop)  '));
      if (last) delete last.empty_layer;
      emit({
        type: 'layer-written',
        stage: stage.name,
        step: instructions.length,
        digest: recorded.layer.descriptor.digest,
        diffId: recorded.layer.diffId,
        size: recorded.layer.descriptor.size,
        ms: recorded.layerMs,
      });
    }
  }
  emit({ type: 'stage-done', stage: stage.name, ms: performance.now() - started });
  return state.state;
}

interface StepOutcome {
  createdBy: string;
  cacheKey: string;
  layer?: RecordedLayer;
  /** Served by the layer cache: nothing ran. */
  cached?: boolean;
  /** The cached layer a hit reuses. */
  reused?: StageLayer;
}

interface StepContext {
  step: number;
  where: string;
  metadata: MetadataContext;
  recorder: LayerRecorder;
}

async function executeStep(
  context: StageContext,
  stage: PlannedStage,
  state: StageState,
  instruction: Instruction,
  step: StepContext,
): Promise<StepOutcome> {
  const { input, env } = context;
  const config = state.config.config;
  const keyFor = (text: string, sourcesHash?: string) =>
    stepCacheKey({
      parent: state.cacheKey,
      instruction: text,
      args: runArgs(state, context.args).map(([name, value]) => `${name}=${value}`),
      env: config.Env ?? [],
      user: config.User ?? '',
      workdir: config.WorkingDir ?? '',
      shell: config.Shell ?? [],
      ...(sourcesHash === undefined ? {} : { sourcesHash }),
    });
  const single = input.singleSnapshot;
  switch (instruction.kind) {
    case 'ARG': {
      declareArgs(state, instruction, context.args, context.dockerfile.escape);
      const text = instruction.args
        .map((arg) =>
          state.args.get(arg.name) === undefined ? arg.name : `${arg.name}=${state.args.get(arg.name)}`,
        )
        .join(' ');
      return { createdBy: nopCreatedBy(`ARG ${text}`), cacheKey: keyFor(`ARG ${text}`) };
    }
    case 'WORKDIR': {
      const value = expandWord(instruction.value, stageLookup(state), { escape: context.dockerfile.escape });
      const path = posixResolve(config.WorkingDir || '/', value);
      config.WorkingDir = path;
      const createdBy = nopCreatedBy(`WORKDIR ${path}`);
      const cacheKey = keyFor(`WORKDIR ${path}`);
      const cache = single ? undefined : env.cache;
      // Whether the directory exists depends on files not extracted yet: ask the cache first.
      const cached = cache && context.lazy.isPending(state) ? await cache.get(cacheKey) : undefined;
      if (cached) {
        if (cached.layer) context.lazy.defer(state, [cached.layer]);
        return { createdBy, cacheKey, cached: true, ...(cached.layer ? { reused: cached.layer } : {}) };
      }
      await materialiseRoot(context, state, step.recorder);
      const host = await resolveInRoot(state.root, path);
      const missing = await createDirs(state.root, host);
      const layer =
        missing.length === 0 || single ? undefined : await step.recorder.recordPaths(state.root, missing);
      await cache?.put(cacheKey, {
        ...(layer?.layer ? { layer: layer.layer } : {}),
        history: { created_by: createdBy, ...(layer?.layer ? {} : { empty_layer: true }) },
        config: structuredClone(state.config.config),
      });
      return { createdBy, cacheKey, ...(layer ? { layer } : {}) };
    }
    case 'RUN': {
      const createdBy = runCreatedBy(state, instruction, context.args);
      const cacheKey = keyFor(createdBy);
      // A bind mount's files are not part of the key, so such a RUN is never served from the cache.
      const cache =
        single || env.cacheLayers?.run === false || instruction.mounts.some((mount) => mount.type === 'bind')
          ? undefined
          : env.cache;
      const cached = await cache?.get(cacheKey);
      if (cached) {
        // A hit: the layer is reused and the command never runs; its files are extracted only if
        // a later step needs the tree.
        if (cached.layer) context.lazy.defer(state, [cached.layer]);
        return { createdBy, cacheKey, cached: true, ...(cached.layer ? { reused: cached.layer } : {}) };
      }
      await materialiseRoot(context, state, step.recorder);
      if (!single) await step.recorder.ensureBaseline(state.root);
      await runInstruction({
        state,
        instruction,
        executor: env.executor,
        args: context.args,
        where: step.where,
        onOutput: (line, stream) =>
          context.emit({ type: 'run-output', stage: stage.name, step: step.step, stream, line }),
        signal: context.signal,
        // Only the sandbox can mount; container mode (an unprivileged container) refuses --mount.
        ...(env.executor.kind === 'sandbox' ? { mounts: runMountContext(context, state, stage, step) } : {}),
      });
      if (single) return { createdBy, cacheKey };
      const layer = await step.recorder.recordDiff(state.root);
      await cache?.put(cacheKey, {
        ...(layer.layer ? { layer: layer.layer } : {}),
        history: { created_by: createdBy, ...(layer.layer ? {} : { empty_layer: true }) },
        config: structuredClone(state.config.config),
      });
      return { createdBy, cacheKey, layer };
    }
    case 'COPY':
    case 'ADD': {
      // COPY --from keys on what it reads (the stage's cache key, the image's digest) rather than on
      // the files' hashes, so a hit needs neither that stage's tree nor the image's layers.
      const from = instruction.kind === 'COPY' ? instruction.options.from : undefined;
      const cache = single || env.cacheLayers?.copy === false ? undefined : env.cache;
      const fromKey =
        from !== undefined && cache
          ? keyFor(
              `${instruction.kind} ${instruction.raw}`,
              await fromIdentity(context, from, step.where, stage.name),
            )
          : undefined;
      const fromHit = fromKey === undefined ? undefined : await cache?.get(fromKey);
      if (fromKey !== undefined && fromHit) {
        if (fromHit.layer) context.lazy.defer(state, [fromHit.layer]);
        return {
          createdBy: fromHit.history.created_by ?? '',
          cacheKey: fromKey,
          cached: true,
          ...(fromHit.layer ? { reused: fromHit.layer } : {}),
        };
      }
      const source = await copySourceFor(context, instruction, step.where, stage.name);
      // --chown names a user of the stage's /etc/passwd: the tree must be there to resolve it.
      if (instruction.options.chown !== undefined) await materialiseRoot(context, state, step.recorder);
      let hit: CachedStep | undefined;
      const result = await copyInstruction({
        state,
        instruction,
        source,
        escape: context.dockerfile.escape,
        where: step.where,
        scratchDir: join(env.workDir, 'scratch', `${stage.index}-${step.step}`),
        signal: context.signal,
        ...(instruction.options.exclude.length > 0
          ? { isExcluded: excludeMatcher(instruction.options.exclude) }
          : {}),
        beforeCopy: async (contentHash, createdBy) => {
          if (cache && fromKey === undefined) {
            hit = await cache.get(keyFor(`${instruction.kind} ${createdBy}`, contentHash));
            if (hit) return true;
          }
          // A miss writes into the tree: it must be complete first.
          await materialiseRoot(context, state, step.recorder);
          return false;
        },
      });
      const cacheKey = fromKey ?? keyFor(`${instruction.kind} ${result.createdBy}`, result.contentHash);
      if (result.skipped && hit) {
        if (hit.layer) context.lazy.defer(state, [hit.layer]);
        return {
          createdBy: result.createdBy,
          cacheKey,
          cached: true,
          ...(hit.layer ? { reused: hit.layer } : {}),
        };
      }
      if (single) return { createdBy: result.createdBy, cacheKey };
      const layer = await step.recorder.recordPaths(state.root, result.touched);
      await cache?.put(cacheKey, {
        ...(layer.layer ? { layer: layer.layer } : {}),
        history: { created_by: result.createdBy, ...(layer.layer ? {} : { empty_layer: true }) },
        config: structuredClone(state.config.config),
      });
      return { createdBy: result.createdBy, cacheKey, layer };
    }
    case 'FROM':
      throw new KilnError('INTERNAL', 'FROM inside a stage');
    default: {
      if (!isMetadataInstruction(instruction))
        throw new KilnError('UNKNOWN_INSTRUCTION', `${step.where}: cannot execute this instruction`);
      const createdBy = applyMetadataInstruction(state, instruction, step.metadata);
      return { createdBy, cacheKey: keyFor(createdBy) };
    }
  }
}

/** Where a COPY/ADD reads from: the context, an earlier stage's root, or an image's tree. */
async function copySourceFor(
  context: StageContext,
  instruction: Instruction & { kind: 'COPY' | 'ADD' },
  where: string,
  stageName: string,
): Promise<CopySource> {
  const from = instruction.kind === 'COPY' ? instruction.options.from : undefined;
  if (from === undefined)
    return { root: context.input.contextDir, kind: 'context', isIgnored: context.isIgnored };
  return sourceFrom(context, from, where, stageName);
}

function runMountContext(
  context: StageContext,
  state: StageState,
  stage: PlannedStage,
  step: StepContext,
): Omit<RunMountContext, 'cwd'> {
  return {
    where: step.where,
    expand: (word) => expandWord(word, stageLookup(state), { escape: context.dockerfile.escape }),
    cacheMountDir: context.env.cacheMountDir ?? join(context.env.workDir, 'cache-mounts'),
    scratchDir: join(context.env.workDir, 'scratch', `${stage.index}-${step.step}`),
    sourceRoot: async (from) =>
      from === undefined
        ? context.input.contextDir
        : (await sourceFrom(context, from, step.where, stage.name)).root,
  };
}

type FromTarget =
  | { kind: 'stage'; word: string; index: number; built: StageState }
  | { kind: 'image'; word: string };

/** Resolves a `--from` word (expanded with the global and automatic args) to a built stage or an image. */
function resolveFrom(context: StageContext, from: string, where: string): FromTarget {
  const word = expandWord(
    from,
    (name) => context.plan.globalArgs.get(name) ?? context.args.automaticArgs.get(name),
    { escape: context.dockerfile.escape },
  );
  const index = findStage(context.plan.stages, word.toLowerCase());
  if (index === undefined) return { kind: 'image', word };
  const built = context.built.get(index);
  if (!built)
    throw new KilnError('UNKNOWN_STAGE', `${where}: stage "${word}" has not been built before this one`);
  return { kind: 'stage', word, index, built };
}

/** What a `--from` reads, for cache keys: the stage's last cache key, or the image's manifest digest. */
async function fromIdentity(
  context: StageContext,
  from: string,
  where: string,
  stageName: string,
): Promise<string> {
  const target = resolveFrom(context, from, where);
  if (target.kind === 'stage') return `stage:${target.built.cacheKey}`;
  return `image:${(await pullBase(context, target.word, where, stageName)).digest}`;
}

/** The tree a `--from` names (COPY --from, RUN --mount from=): an earlier stage's, or an image's. */
async function sourceFrom(
  context: StageContext,
  from: string,
  where: string,
  stageName: string,
): Promise<CopySource> {
  const target = resolveFrom(context, from, where);
  const word = target.word;
  if (target.kind === 'stage') {
    const { built, index } = target;
    if (context.env.executor.concurrentStages) {
      await materialiseRoot(context, built);
      return { root: built.root, kind: 'stage', from: word };
    }
    // One root only (container mode): rebuild the stage's tree from its layers.
    const dir = join(context.env.workDir, 'stages', String(index));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await context.env.fetchBlobs?.(built.layers);
    await extractImageLayers(built.layers, dir, context.env.store, [], context.signal);
    return { root: dir, kind: 'stage', from: word };
  }
  const image = await pullBase(context, word, where, stageName);
  const dir = join(context.env.workDir, 'images', image.digest.replace(':', '-'));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await context.env.fetchBlobs?.(layersOf(image));
  await extractImageLayers(layersOf(image), dir, context.env.store, [], context.signal);
  return { root: dir, kind: 'image', from: word };
}

async function pullBase(
  context: StageContext,
  reference: string,
  where: string,
  stage: string,
  platform: Platform = context.platform,
): Promise<PulledImage> {
  const started = performance.now();
  try {
    const image = await context.env.images.pull(reference, platform);
    context.emit({
      type: 'base-pulled',
      stage,
      reference: image.reference,
      digest: image.digest,
      layers: image.manifest.layers.length,
      ms: performance.now() - started,
    });
    return image;
  } catch (error) {
    if (error instanceof KilnError) {
      throw new KilnError(error.code, `${where}: cannot pull base image "${reference}": ${error.message}`, {
        cause: error,
        exitCode: error.exitCode,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    throw error;
  }
}

function layersOf(image: PulledImage) {
  const diffIds = image.config.rootfs.diff_ids;
  return image.manifest.layers.map((descriptor, index) => ({ descriptor, diffId: diffIds[index]! }));
}

interface InitialState {
  state: StageState;
  /** The base's ONBUILD triggers, parsed, to run before the stage's own instructions. */
  onbuild: Instruction[];
}

async function initialState(context: StageContext, stage: PlannedStage, root: string): Promise<InitialState> {
  const where = describeLocation(context.dockerfile, stage.from);
  // FROM --platform=… picks the base's platform (e.g. $BUILDPLATFORM for a cross-compiling stage).
  const platform = stage.from.platform
    ? parsePlatform(
        expandWord(
          stage.from.platform,
          (name) => context.plan.globalArgs.get(name) ?? context.args.automaticArgs.get(name),
          {
            escape: context.dockerfile.escape,
          },
        ),
        `${where}: FROM --platform`,
      )
    : context.platform;
  const state: StageState = {
    name: stage.name,
    index: stage.index,
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
      created: context.created,
    },
    history: [],
    layers: [],
    args: new Map(),
    cacheKey: '',
    root,
  };
  let onbuildTexts: string[] = [];
  if (stage.baseStage !== undefined) {
    const base = context.built.get(stage.baseStage)!;
    state.config = structuredClone(base.config);
    state.config.created = context.created;
    state.history = structuredClone(base.history);
    state.layers = [...base.layers];
    state.cacheKey = base.cacheKey;
    context.lazy.defer(state, state.layers);
    onbuildTexts = base.config.config.OnBuild ?? [];
  } else if (stage.base.toLowerCase() !== 'scratch') {
    const image = await pullBase(context, stage.base, where, stage.name, platform);
    const config = structuredClone(image.config);
    state.config = { ...config, created: context.created, config: config.config ?? {} };
    state.history = config.history ?? [];
    state.layers = layersOf(image);
    state.cacheKey = image.digest;
    context.lazy.defer(state, state.layers);
    onbuildTexts = config.config?.OnBuild ?? [];
  } else {
    state.cacheKey = 'scratch';
  }
  // Triggers fire once, in the image built FROM this base; they are not inherited further.
  if (state.config.config.OnBuild) state.config.config.OnBuild = null;
  const onbuild = onbuildTexts.map((text) => {
    const parsed = parseDockerfile(`FROM scratch\n${text}\n`, {
      fileName: `ONBUILD trigger of ${stage.base}`,
    });
    const trigger = parsed.instructions[1];
    if (!trigger) throw new KilnError('INVALID_ONBUILD', `${where}: empty ONBUILD trigger in ${stage.base}`);
    return { ...trigger, startLine: stage.from.startLine, endLine: stage.from.endLine } as Instruction;
  });
  return { state, onbuild };
}

async function contextIgnoreMatcher(contextDir: string): Promise<(path: string, isDir: boolean) => boolean> {
  let text: string;
  try {
    text = await readFile(join(contextDir, '.dockerignore'), 'utf8');
  } catch {
    return () => false;
  }
  const matcher = createIgnoreMatcher(parseDockerignore(text));
  return (path) => matcher.ignores(path);
}

function excludeMatcher(patterns: string[]): (path: string) => boolean {
  const matcher = createIgnoreMatcher(patterns);
  return (path) => matcher.ignores(path);
}

async function createDirs(root: string, host: string): Promise<string[]> {
  const missing: string[] = [];
  let current = host;
  while (current.length > root.length) {
    try {
      await stat(current);
      break;
    } catch {
      missing.unshift(current);
      current = current.slice(0, current.lastIndexOf('/'));
    }
  }
  for (const dir of missing) await mkdir(dir, { mode: 0o755 });
  return missing.map((dir) => imagePathOf(root, dir));
}

function posixResolve(from: string, path: string): string {
  return path.startsWith('/') ? normalise(path) : normalise(`${from}/${path}`);
}

function normalise(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
