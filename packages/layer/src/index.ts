export { changeSetFromTree, entryFromLstat } from './changeSetFromTree.ts';
export type { ExtractLayerOptions, ExtractResult } from './extractLayer.ts';
export { extractLayer } from './extractLayer.ts';
export type { GzipPool, GzipPoolOptions } from './gzipPool.ts';
export { createGzipPool, gzipWorkerEntry } from './gzipPool.ts';
export type { LayerEvent } from './layerEvents.ts';
export type { LayerResult, WriteLayerOptions } from './writeLayer.ts';
export { writeLayer } from './writeLayer.ts';
