import type { LayerRecorder, RecordedLayer } from '../stage/layerRecorder.ts';
import type { StageState } from '../stage/stageState.ts';

/**
 * When a stage's file changes become layers. Per step (the default): each step that changes files
 * gets its own layer and may be served from or stored in the layer cache. Single snapshot
 * (`--single-snapshot`): the root is snapshotted once before the first step and diffed once after
 * the last, giving one layer for the stage and no per-step caching.
 */
export interface RecordingPolicy {
  /** Whether steps may use the layer cache. */
  readonly cachesSteps: boolean;
  /** Before the stage's first step; `materialise` extracts the stage's pending layers. */
  start(state: StageState, materialise: () => Promise<void>): Promise<void>;
  /** Before a step whose changes a snapshot diff finds. */
  beforeSnapshotStep(state: StageState): Promise<void>;
  /** After a step changed files; undefined when this policy records them later. */
  recordStep(
    state: StageState,
    changes: 'snapshot' | 'paths',
    touched: string[],
    mountTargets?: string[],
  ): Promise<RecordedLayer | undefined>;
  /** After the stage's last step: the layer this policy deferred, if any. */
  finish(state: StageState): Promise<RecordedLayer | undefined>;
}

export function perStepRecording(recorder: LayerRecorder): RecordingPolicy {
  return {
    cachesSteps: true,
    async start() {},
    async beforeSnapshotStep(state) {
      await recorder.ensureBaseline(state.root);
    },
    async recordStep(state, changes, touched, mountTargets) {
      if (changes === 'snapshot') return recorder.recordDiff(state.root, mountTargets);
      // Nothing written (a WORKDIR that exists): no layer, and the baseline stays valid.
      if (touched.length === 0) return undefined;
      return recorder.recordPaths(state.root, touched);
    },
    async finish() {
      return undefined;
    },
  };
}

export function singleSnapshotRecording(recorder: LayerRecorder): RecordingPolicy {
  return {
    cachesSteps: false,
    async start(state, materialise) {
      await materialise();
      await recorder.ensureBaseline(state.root);
    },
    async beforeSnapshotStep() {},
    async recordStep() {
      return undefined;
    },
    async finish(state) {
      return recorder.recordDiff(state.root);
    },
  };
}
