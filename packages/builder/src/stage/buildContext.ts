import type { Dockerfile } from '@kiln/dockerfile';
import type { Platform } from '@kiln/image';
import type { PulledImage } from '../base/imageSource.ts';
import type { BuildEnvironment, BuildInput } from '../buildOptions.ts';
import type { LazyRoots } from '../cache/lazyRoots.ts';
import type { BuildEvent } from '../events.ts';
import type { BuildPlan } from '../plan/planStages.ts';
import type { WorkerPools } from '../workerPools.ts';
import type { ArgSources } from './argScope.ts';
import type { StageState } from './stageState.ts';

/** What every stage and step of one build shares. */
export interface BuildContext {
  input: BuildInput;
  env: BuildEnvironment;
  dockerfile: Dockerfile;
  plan: BuildPlan;
  args: ArgSources;
  isIgnored: (path: string, isDir: boolean) => boolean;
  created: string;
  /** In-image paths (relative) no layer may hold: the executor's mounts and `--ignore-path`. */
  ignore: string[];
  built: Map<number, StageState>;
  emit: (event: BuildEvent) => void;
  platform: Platform;
  /** The caller's signal combined with the fail-fast of concurrent stages. */
  signal: AbortSignal;
  /** Layers of each stage not extracted yet: a fully cached stage never touches its root. */
  lazy: LazyRoots;
  /** The build's worker threads, shared by every snapshot and layer. */
  pools: WorkerPools;
  /**
   * Base images being resolved, by reference and platform: each is asked of the source once per build,
   * and every stage's is started when the build starts (see startBasePulls).
   */
  bases: Map<string, Promise<PulledImage>>;
}
