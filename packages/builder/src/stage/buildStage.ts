import type { Instruction } from '@kiln/dockerfile';
import { parseDockerfile } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import { formatPlatform, type HistoryEntry } from '@kiln/image';
import { withoutBuildArgValues } from '../cache/withoutBuildArgValues.ts';
import { stepCacheKey } from '../cacheKey.ts';
import { stagePlatform } from '../executor/checkForeignRuns.ts';
import { prepareStep } from '../instructions/prepareStep.ts';
import type { StepScope } from '../instructions/step.ts';
import type { PlannedStage } from '../plan/planStages.ts';
import { lookAhead } from '../steps/lookahead.ts';
import { perStepRecording, singleSnapshotRecording } from '../steps/recordingPolicy.ts';
import { runStep } from '../steps/runStep.ts';
import { runArgs } from './argScope.ts';
import type { BuildContext } from './buildContext.ts';
import { LayerRecorder } from './layerRecorder.ts';
import { describeLocation, instructionSummary } from './location.ts';
import type { MetadataContext } from './metadataInstructions.ts';
import { scratchConfig } from './scratchConfig.ts';
import { layersOf, materialiseRoot, pullBase } from './stageSources.ts';
import type { StageState } from './stageState.ts';

/** Builds one stage: its base, then each instruction through the step runner. */
export async function buildStage(context: BuildContext, stage: PlannedStage): Promise<StageState> {
  const { env, emit, input } = context;
  const started = performance.now();
  const root = await env.executor.prepareRoot({ index: stage.index, name: stage.name });
  const recorder = new LayerRecorder({
    store: env.store,
    strategy: input.snapshotStrategy === 'overlay' ? 'incremental' : input.snapshotStrategy,
    ignore: context.ignore,
    compression: input.compression,
    ...(input.compressionLevel === undefined ? {} : { level: input.compressionLevel }),
    ...(input.reproducible ? { sourceDateEpoch: input.sourceDateEpoch ?? 0 } : {}),
    pools: context.pools,
    signal: context.signal,
    stage: stage.name,
    emit,
  });
  // The first RUN's baseline walk: its helper process starts while the base image is resolved.
  if (stage.instructions.some((instruction) => instruction.kind === 'RUN')) recorder.prepareSnapshot(root);
  const { state, onbuild } = await initialState(context, stage, root);
  const policy = input.singleSnapshot ? singleSnapshotRecording(recorder) : perStepRecording(recorder);
  const instructions = [...onbuild, ...stage.instructions];
  emit({
    type: 'stage-started',
    stage: stage.name,
    index: stage.index,
    base: stage.base,
    steps: instructions.length,
  });
  // A stage the image never shows must not publish build-arg values through its cache entries.
  const cache = env.cache && !stage.inImage ? withoutBuildArgValues(env.cache, input.buildArgs) : env.cache;
  const metadata: MetadataContext = { escape: context.dockerfile.escape, cmdSetInStage: false };
  await policy.start(state, () => materialiseRoot(context, state, recorder));
  // Every step's key is known before the first runs: their lookups go out together.
  const ahead =
    policy.cachesSteps && cache
      ? await lookAhead(context, stage, state, instructions, metadata, cache, (shadow, text, hash) =>
          cacheKeyOf(context, shadow, text, hash),
        )
      : undefined;
  // The history entry of the last step that changed files: it owns a deferred (single) layer.
  let lastChange: { entry: HistoryEntry; step: number } | undefined;
  for (const [position, instruction] of instructions.entries()) {
    context.signal.throwIfAborted();
    const step = position + 1;
    const stepStarted = performance.now();
    emit({
      type: 'step-started',
      stage: stage.name,
      step,
      steps: instructions.length,
      instruction: instructionSummary(instruction),
      line: instruction.startLine,
    });
    const scope: StepScope = {
      build: context,
      stage,
      state,
      step,
      where: describeLocation(context.dockerfile, instruction),
      metadata,
      cache: policy.cachesSteps ? cache : undefined,
      keyFor: (text, sourcesHash) => cacheKeyOf(context, state, text, sourcesHash),
      ...(ahead?.sources.has(position) ? { knownSources: ahead.sources.get(position)! } : {}),
    };
    const outcome = await runStep(scope, await prepareStep(instruction, scope), policy, recorder);
    state.cacheKey = outcome.cacheKey;
    const entry: HistoryEntry = { created: context.created, created_by: outcome.createdBy };
    if (outcome.cached) emit({ type: 'step-cached', stage: stage.name, step, cacheKey: outcome.cacheKey });
    const layer = outcome.reused ?? outcome.layer?.layer;
    if (layer) state.layers.push(layer);
    else entry.empty_layer = true;
    if (outcome.layer?.layer) {
      emit({
        type: 'snapshot-done',
        stage: stage.name,
        step,
        entries: outcome.layer.entries,
        changes: outcome.layer.changes,
        ms: outcome.layer.snapshotMs,
      });
      emitLayer(context, stage, step, outcome.layer);
    }
    state.history.push(entry);
    if (outcome.changesFiles) lastChange = { entry, step };
    emit({
      type: 'step-done',
      stage: stage.name,
      step,
      ms: performance.now() - stepStarted,
      cacheKey: outcome.cacheKey,
      emptyLayer: entry.empty_layer === true,
    });
  }
  const deferred = await policy.finish(state);
  if (deferred?.layer) {
    state.layers.push(deferred.layer);
    // One layer for the stage: the last step that changed files owns it in history.
    const owner = lastChange ?? { entry: state.history.at(-1)!, step: instructions.length };
    delete owner.entry.empty_layer;
    emitLayer(context, stage, owner.step, deferred);
  }
  emit({ type: 'stage-done', stage: stage.name, ms: performance.now() - started });
  return state;
}

function cacheKeyOf(context: BuildContext, state: StageState, text: string, sourcesHash?: string): string {
  const config = state.config.config;
  return stepCacheKey({
    parent: state.cacheKey,
    instruction: text,
    args: runArgs(state, context.args).map(([name, value]) => `${name}=${value}`),
    env: config.Env ?? [],
    user: config.User ?? '',
    workdir: config.WorkingDir ?? '',
    shell: config.Shell ?? [],
    ...(sourcesHash === undefined ? {} : { sourcesHash }),
    platform: formatPlatform(stagePlatform(context.plan, state.index, context.platform)),
  });
}

function emitLayer(
  context: BuildContext,
  stage: PlannedStage,
  step: number,
  recorded: { layer?: StageState['layers'][number]; layerMs: number },
): void {
  if (!recorded.layer) return;
  context.emit({
    type: 'layer-written',
    stage: stage.name,
    step,
    digest: recorded.layer.descriptor.digest,
    diffId: recorded.layer.diffId,
    size: recorded.layer.descriptor.size,
    ms: recorded.layerMs,
  });
}

interface InitialState {
  state: StageState;
  /** The base's ONBUILD triggers, parsed, to run before the stage's own instructions. */
  onbuild: Instruction[];
}

async function initialState(context: BuildContext, stage: PlannedStage, root: string): Promise<InitialState> {
  const where = describeLocation(context.dockerfile, stage.from);
  const platform = stage.platform ?? context.platform;
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
    if (base.baseMediaType !== undefined) state.baseMediaType = base.baseMediaType;
    context.lazy.defer(state, state.layers);
    onbuildTexts = base.config.config.OnBuild ?? [];
  } else if (stage.base.toLowerCase() !== 'scratch') {
    const image = await pullBase(context, stage.base, where, stage.name, platform);
    const config = structuredClone(image.config);
    state.config = { ...config, created: context.created, config: config.config ?? {} };
    state.history = config.history ?? [];
    state.layers = layersOf(image);
    state.cacheKey = image.digest;
    state.baseMediaType = image.manifest.mediaType ?? image.manifest.config.mediaType;
    context.lazy.defer(state, state.layers);
    onbuildTexts = config.config?.OnBuild ?? [];
  } else {
    state.cacheKey = 'scratch';
    state.config.config = scratchConfig();
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
