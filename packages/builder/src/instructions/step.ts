import type { CachedStep, LayerCache } from '../layerCache.ts';
import type { PlannedStage } from '../plan/planStages.ts';
import type { BuildContext } from '../stage/buildContext.ts';
import type { MetadataContext } from '../stage/metadataInstructions.ts';
import type { StageState } from '../stage/stageState.ts';
import type { KnownSources } from '../steps/lookahead.ts';

/** Where a step runs: the build, its stage, and the step's place in it. */
export interface StepScope {
  build: BuildContext;
  stage: PlannedStage;
  state: StageState;
  /** 1-based within the stage. */
  step: number;
  /** `Dockerfile:12`, for messages. */
  where: string;
  metadata: MetadataContext;
  /** The layer cache this stage's steps use; undefined when there is none or the recording policy opts out. */
  cache: LayerCache | undefined;
  /** The cache key of a step with this text (and sources hash) on top of the stage's current state. */
  keyFor(text: string, sourcesHash?: string): string;
  /** A COPY's sources as the stage's look-ahead hashed them, for the step with that parent key. */
  knownSources?: KnownSources;
}

/**
 * What an instruction needs from the step runner, decided once it has applied its config changes
 * (ARG, ENV, WORKDIR's path…): its history text, cache key, how it changes files and the work.
 * The runner does cache lookup, materialisation, recording and cache put the same way for all.
 */
export interface Step {
  /** `created_by` in history; undefined when the work (or a cache hit's record) tells it. */
  createdBy?: string;
  /** Undefined when the key is known only while executing (COPY hashes its sources first). */
  cacheKey?: string;
  /**
   * How the step changes files: not at all (config only), whatever a snapshot diff of the root
   * finds (RUN), or the paths it reports (COPY, ADD, WORKDIR).
   */
  changes: 'none' | 'snapshot' | 'paths';
  /**
   * When the layer cache may serve the step: always, only while the root is not extracted yet
   * (a cheap step whose result depends on files not there yet), or never. Any but never is stored.
   */
  cache: 'always' | 'while-lazy' | 'never';
  /** Whether the root must be extracted before `execute` (COPY extracts it itself on a miss). */
  needsTree: boolean;
  /** The work, on a cache miss. */
  execute?(run: StepRun): Promise<StepWork>;
}

export interface StepRun {
  /** Extracts the stage's pending layers into its root (once). */
  materialise(): Promise<void>;
  /** Asks the layer cache for a key learnt while executing; undefined when the step is not cached. */
  lookup(cacheKey: string): Promise<CachedStep | undefined>;
  /** Called once a RUN's command is running: what comes after it can be prepared while it runs. */
  commandStarted?(): void;
}

export interface StepWork {
  /** In-image paths written (`changes: 'paths'`). */
  touched?: string[];
  /** History text and cache key, when only the work could tell them. */
  createdBy?: string;
  cacheKey?: string;
  /** A hit found through `lookup`: nothing was written. */
  hit?: CachedStep;
  /** In-image paths RUN mounted on: whatever differs there is left out of the layer. */
  mountTargets?: string[];
}
