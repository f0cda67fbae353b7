export type { StagedExecutorContext, StageExecutorContextOptions } from './executorContext.ts';
export {
  executorDockerfile,
  executorImageDir,
  executorMarkerPath,
  stageExecutorContext,
} from './executorContext.ts';
export type { BuildExecutorImageOptions, ExecutorImages } from './executorImage.ts';
export { buildExecutorImage } from './executorImage.ts';
export { ensureNodeBinary, pinnedNodeVersion } from './nodeBinary.ts';
