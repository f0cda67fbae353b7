import type { BlobStore, Compression } from '@kiln/image';
import { changeSetFromTree, writeLayer } from '@kiln/layer';
import type { ChangeSet, Snapshot, SnapshotEvent, SnapshotStrategyName } from '@kiln/snapshot';
import {
  compileIgnoreRules,
  diffSnapshots,
  isPathIgnored,
  prestartSnapshotHelper,
  takeSnapshot,
} from '@kiln/snapshot';
import type { BuildEvent } from '../events.ts';
import type { WorkerPools } from '../workerPools.ts';
import type { StageLayer } from './stageState.ts';

export interface LayerRecorderOptions {
  store: BlobStore;
  strategy: SnapshotStrategyName;
  /** Relative paths (snapshot IgnoreRule syntax) skipped in every snapshot. */
  ignore: string[];
  compression: Compression;
  level?: number;
  /** Reproducible builds: every mtime in layers becomes this (seconds since the epoch). */
  sourceDateEpoch?: number;
  /** The build's workers; without them each snapshot and layer starts (and stops) its own. */
  pools?: WorkerPools;
  /** Stops a layer write at its next block (a build interrupted by a signal). */
  signal?: AbortSignal;
  /** The stage's name and the build's listener: snapshot and layer events are forwarded through it. */
  stage?: string;
  emit?: (event: BuildEvent) => void;
}

export interface RecordedLayer {
  /** Undefined when nothing changed: the step gets `empty_layer` in history. */
  layer?: StageLayer;
  entries: number;
  changes: number;
  snapshotMs: number;
  layerMs: number;
}

/**
 * Turns what a step changed in a stage root into a layer blob. RUN diffs a fresh snapshot against
 * the previous one; COPY/ADD list the paths they wrote, so no walk of the whole root is needed
 * (the next RUN re-walks before it runs).
 */
export class LayerRecorder {
  readonly #options: LayerRecorderOptions;
  readonly #stage: string;
  #baseline: Snapshot | undefined;
  #stale = true;

  constructor(options: LayerRecorderOptions) {
    this.#options = options;
    this.#stage = options.stage ?? '';
  }

  /** The snapshot a RUN will be diffed against; taken now if COPY/ADD or the base changed the root. */
  async ensureBaseline(root: string): Promise<number> {
    if (!this.#stale && this.#baseline?.root === root) return 0;
    const started = performance.now();
    this.#baseline = await takeSnapshot(root, this.#snapshotOptions(this.#baseline));
    this.#stale = false;
    return performance.now() - started;
  }

  /**
   * Starts the helper process of the next snapshot of `root` now (see prestartSnapshotHelper), while
   * the caller waits for something else: a stage while its base image is resolved, a RUN while its
   * command runs.
   */
  prepareSnapshot(root: string): void {
    // Both ensureBaseline and recordDiff snapshot with the baseline (if any) as previous: a rescan.
    prestartSnapshotHelper(root, this.#snapshotOptions(this.#baseline));
  }

  /** The root changed behind the recorder's back (base extracted, stage reset). */
  invalidate(): void {
    this.#stale = true;
    this.#baseline = undefined;
  }

  /**
   * `mountTargets`: in-image paths a RUN had mounts on. What they hold was put back after the RUN
   * (container mode moves it aside and back), so a difference there is only timestamps: never the layer's.
   */
  async recordDiff(root: string, mountTargets: string[] = []): Promise<RecordedLayer> {
    if (!this.#baseline || this.#stale) throw new Error('recordDiff without a baseline');
    const started = performance.now();
    const after = await takeSnapshot(root, this.#snapshotOptions(this.#baseline));
    const changeSet = withoutPaths(diffSnapshots(this.#baseline, after), mountTargets);
    const snapshotMs = performance.now() - started;
    this.#baseline = after;
    return this.#write(root, changeSet, after.size, snapshotMs);
  }

  /** The paths a step says it wrote, less the ignored ones (as a RUN's snapshot leaves them out). */
  async recordPaths(root: string, imagePaths: string[]): Promise<RecordedLayer> {
    const started = performance.now();
    const listed = changeSetFromTree(root, topmostPaths(imagePaths));
    const ignored = compileIgnoreRules(this.#options.ignore);
    const changeSet = {
      ...listed,
      changes: listed.changes.filter((change) => !isPathIgnored(ignored, change.path)),
    };
    const snapshotMs = performance.now() - started;
    this.#stale = true;
    return this.#write(root, changeSet, changeSet.changes.length, snapshotMs);
  }

  async #write(
    root: string,
    changeSet: ChangeSet,
    entries: number,
    snapshotMs: number,
  ): Promise<RecordedLayer> {
    const changes = changeSet.changes.length + changeSet.opaqueDirs.length;
    if (changes === 0) return { entries, changes, snapshotMs, layerMs: 0 };
    const started = performance.now();
    const written = await writeLayer(changeSet, root, {
      store: this.#options.store,
      compression: this.#options.compression,
      ...(this.#options.pools ? { pool: this.#options.pools.gzip } : {}),
      onEvent: (event) => this.#options.emit?.({ type: 'layer', stage: this.#stage, event }),
      ...(this.#options.level === undefined ? {} : { level: this.#options.level }),
      ...(this.#options.sourceDateEpoch === undefined
        ? {}
        : { sourceDateEpoch: this.#options.sourceDateEpoch }),
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
    });
    return {
      layer: {
        descriptor: { mediaType: written.mediaType, digest: written.digest, size: written.size },
        diffId: written.diffId,
      },
      entries,
      changes,
      snapshotMs,
      layerMs: performance.now() - started,
    };
  }

  #snapshotOptions(previous: Snapshot | undefined) {
    return {
      strategy: this.#options.strategy,
      ignore: this.#options.ignore,
      ...(this.#options.pools ? { pool: this.#options.pools.hash } : {}),
      ...(previous ? { previous } : {}),
      onEvent: (event: SnapshotEvent) =>
        this.#options.emit?.({ type: 'snapshot', stage: this.#stage, event }),
    };
  }
}

function withoutPaths(changeSet: ChangeSet, imagePaths: string[]): ChangeSet {
  if (imagePaths.length === 0) return changeSet;
  const rules = compileIgnoreRules(imagePaths.map((path) => path.replace(/^\/+/, '')));
  return {
    changes: changeSet.changes.filter((change) => !isPathIgnored(rules, change.path)),
    opaqueDirs: changeSet.opaqueDirs.filter((dir) => !isPathIgnored(rules, dir)),
  };
}

/** Relative paths with every path below another one dropped (the tree walk covers children). */
export function topmostPaths(imagePaths: string[]): string[] {
  const relative = [
    ...new Set(imagePaths.map((path) => path.replace(/^\/+|\/+$/g, '')).filter(Boolean)),
  ].sort();
  const kept = new Set<string>();
  for (const path of relative) {
    let ancestor = path.lastIndexOf('/');
    let covered = false;
    while (ancestor > 0 && !covered) {
      covered = kept.has(path.slice(0, ancestor));
      ancestor = path.lastIndexOf('/', ancestor - 1);
    }
    if (!covered) kept.add(path);
  }
  return [...kept];
}
