import type { Step, StepScope } from '../instructions/step.ts';
import type { CachedStep } from '../layerCache.ts';
import type { LayerRecorder, RecordedLayer } from '../stage/layerRecorder.ts';
import { materialiseRoot } from '../stage/stageSources.ts';
import type { StageLayer } from '../stage/stageState.ts';
import type { RecordingPolicy } from './recordingPolicy.ts';

export interface StepOutcome {
  createdBy: string;
  cacheKey: string;
  /** Whether the step changes files (its history entry owns the stage's layer in single-snapshot). */
  changesFiles: boolean;
  /** The layer this step wrote. */
  layer?: RecordedLayer;
  /** Served by the layer cache: nothing ran; `reused` is the cached layer, if it had one. */
  cached?: boolean;
  reused?: StageLayer;
}

/**
 * Runs one prepared step, the same way for every instruction: cache lookup, extraction of the
 * root when the work needs it, the work, layer recording and cache put.
 */
export async function runStep(
  scope: StepScope,
  step: Step,
  policy: RecordingPolicy,
  recorder: LayerRecorder,
): Promise<StepOutcome> {
  const { build, state } = scope;
  const cache = step.cache === 'never' ? undefined : scope.cache;
  const changesFiles = step.changes !== 'none';
  const reuse = (hit: CachedStep, cacheKey: string, createdBy: string | undefined): StepOutcome => {
    // The layer's files are extracted only if a later step needs the tree.
    if (hit.layer) build.lazy.defer(state, [hit.layer]);
    return {
      createdBy: createdBy ?? hit.history.created_by ?? '',
      cacheKey,
      changesFiles,
      cached: true,
      ...(hit.layer ? { reused: hit.layer } : {}),
    };
  };
  const lookupFirst = step.cache === 'always' || build.lazy.isPending(state);
  if (cache && step.cacheKey !== undefined && lookupFirst) {
    const hit = await cache.get(step.cacheKey);
    if (hit) return reuse(hit, step.cacheKey, step.createdBy);
  }
  if (!step.execute) return { createdBy: step.createdBy ?? '', cacheKey: step.cacheKey ?? '', changesFiles };

  const materialise = () => materialiseRoot(build, state, recorder);
  if (step.needsTree) await materialise();
  if (step.changes === 'snapshot') await policy.beforeSnapshotStep(state);
  const work = await step.execute({
    materialise,
    lookup: async (key) => (cache ? cache.get(key) : undefined),
    // The snapshot after the command: its helper process starts while the command runs.
    ...(step.changes === 'snapshot' ? { commandStarted: () => recorder.prepareSnapshot(state.root) } : {}),
  });
  const createdBy = work.createdBy ?? step.createdBy ?? '';
  const cacheKey = work.cacheKey ?? step.cacheKey ?? '';
  if (work.hit) return reuse(work.hit, cacheKey, createdBy);
  const layer =
    step.changes === 'none'
      ? undefined
      : await policy.recordStep(state, step.changes, work.touched ?? [], work.mountTargets);
  await cache?.put(cacheKey, {
    ...(layer?.layer ? { layer: layer.layer } : {}),
    history: { created_by: createdBy, ...(layer?.layer ? {} : { empty_layer: true }) },
    config: structuredClone(state.config.config),
  });
  return { createdBy, cacheKey, changesFiles, ...(layer ? { layer } : {}) };
}
