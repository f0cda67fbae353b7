import { KilnError } from '@kiln/errors';
import type { SnapshotStrategyName } from './types.ts';

/**
 * What a strategy decides during a walk. `overlay` fits the same shape: the builder lists the paths in
 * the overlayfs upper dir and calls `snapshotPaths` with them and `previous`, so its cost follows the
 * change, not the rootfs; it needs the RUN sandbox, so it is refused here until the builder supplies that.
 */
export interface SnapshotStrategy {
  readonly name: SnapshotStrategyName;
  /** Which regular files get a content hash. */
  readonly hashing: 'all' | 'none' | 'changed-since-previous';
}

const strategies: Record<Exclude<SnapshotStrategyName, 'overlay'>, SnapshotStrategy> = {
  full: { name: 'full', hashing: 'all' },
  metadata: { name: 'metadata', hashing: 'none' },
  incremental: { name: 'incremental', hashing: 'changed-since-previous' },
};

export function resolveStrategy(name: SnapshotStrategyName = 'incremental'): SnapshotStrategy {
  if (name === 'overlay') {
    throw new KilnError('SNAPSHOT_STRATEGY_UNAVAILABLE', 'the overlay strategy needs the RUN sandbox', {
      hint: 'the builder snapshots overlay upper dirs itself; use incremental for a plain directory',
    });
  }
  const strategy = strategies[name];
  if (strategy === undefined) {
    throw new KilnError('SNAPSHOT_UNKNOWN_STRATEGY', `unknown snapshot strategy ${String(name)}`, {
      hint: 'use full, metadata or incremental',
    });
  }
  return strategy;
}
