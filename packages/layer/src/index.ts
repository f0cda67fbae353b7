export type { ArchiveCompression } from './archiveCompression.ts';
export { detectArchiveCompression } from './archiveCompression.ts';
export { changeSetFromTree, entryFromLstat } from './changeSetFromTree.ts';
export type { ExtractArchiveOptions, ExtractArchiveResult } from './extractArchive.ts';
export { extractArchive, isTarArchive } from './extractArchive.ts';
export type { ExtractLayerOptions, ExtractResult } from './extractLayer.ts';
export { extractLayer } from './extractLayer.ts';
export type { GzipPool, GzipPoolOptions } from './gzipPool.ts';
export { createGzipPool } from './gzipPool.ts';
export type { LayerEvent } from './layerEvents.ts';
export type { RootPathOptions } from './rootResolver.ts';
export {
  archivePathComponents,
  imagePathOf,
  RootResolver,
  resolveInRoot,
  resolveInRootSync,
  resolvePathInRoot,
} from './rootResolver.ts';
export type { TarReadHeader } from './tarReader.ts';
export type { LayerResult, WriteLayerOptions } from './writeLayer.ts';
export { writeLayer } from './writeLayer.ts';
