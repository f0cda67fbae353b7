import type { Digest, HistoryEntry, ImageConfig } from '@kiln/image';
import type { StageLayer } from './stage/stageState.ts';

/** One cached step: its layer (absent for metadata-only steps) and what it did to the config. */
export interface CachedStep {
  layer?: StageLayer;
  history: HistoryEntry;
  /** The stage's container config after the step. */
  config: NonNullable<ImageConfig['config']>;
  manifestDigest?: Digest;
}

/**
 * The layer cache the step runner consults (a registry repository, or a directory on one machine).
 * `get` runs before a step executes; a hit reuses the layer and skips the work.
 */
export interface LayerCache {
  get(key: string): Promise<CachedStep | undefined>;
  put(key: string, step: CachedStep): Promise<void>;
  /**
   * Starts looking `key` up now, for a step not reached yet (a remote cache, where each lookup is a
   * round trip): a later `get` of the same key takes that answer instead of asking again. A key
   * never asked for with `get` changes nothing.
   */
  prefetch?(key: string): void;
}
