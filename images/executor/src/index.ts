export type { ArchitectureRuntime } from './architectureRuntime.ts';
export { ensureArchitectureRuntime } from './architectureRuntime.ts';
export type { ArchitectureFacts, ExecutorArchitecture } from './architectures.ts';
export {
  architectureFacts,
  executorArchitectures,
  hostArchitecture,
  parseArchitectures,
} from './architectures.ts';
export type {
  StagedArchitecture,
  StagedExecutorContext,
  StageExecutorContextOptions,
} from './executorContext.ts';
export {
  executorDockerfile,
  executorImageDir,
  executorMarkerPath,
  stageExecutorContext,
} from './executorContext.ts';
export type { BuildExecutorImageOptions, ExecutorImages } from './executorImage.ts';
export { buildExecutorImage } from './executorImage.ts';
export { ensureNodeBinary, pinnedNodeVersion } from './nodeBinary.ts';
export type { PlatformManifest } from './platformIndex.ts';
export { readPlatformIndex } from './platformIndex.ts';
