export type { CompactSnapshot } from './compactSnapshot.ts';
export { comparePaths } from './comparePaths.ts';
export { diffSnapshots } from './diffSnapshots.ts';
export type { HashPool, HashPoolOptions } from './hashPool.ts';
export { createHashPool, defaultHashThreads } from './hashPool.ts';
export type { HashFilesOptions } from './hashQueue.ts';
export { hashFiles } from './hashQueue.ts';
export type { IgnoreMatcher } from './ignoreRules.ts';
export { builtinIgnoreRules, compileIgnoreRules, isPathIgnored } from './ignoreRules.ts';
export { deserializeSnapshot, serializeSnapshot } from './serializeSnapshot.ts';
export type { SnapshotStrategy } from './snapshotStrategies.ts';
export { discardSpareHelpers } from './spareHelpers.ts';
export { prestartSnapshotHelper, snapshotPaths, takeSnapshot } from './takeSnapshot.ts';
export type {
  Change,
  ChangeKind,
  ChangeReason,
  ChangeSet,
  Entry,
  EntryType,
  IgnoreRule,
  Snapshot,
  SnapshotEvent,
  SnapshotOptions,
  SnapshotStats,
  SnapshotStrategyName,
} from './types.ts';
export type { XattrHelperCommand } from './xattrHelper.ts';
export { executorXattrHelperPath, resolveXattrHelper } from './xattrHelper.ts';
