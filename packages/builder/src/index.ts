export type { ImageSource, PulledImage } from './base/imageSource.ts';
export type { LayoutBase } from './base/ociLayoutImageSource.ts';
export { ociLayoutImageSource } from './base/ociLayoutImageSource.ts';
export { registryImageSource } from './base/registryImageSource.ts';
export type { BuildResult } from './build.ts';
export { buildImage } from './build.ts';
export type { BuildEnvironment, BuildInput } from './buildOptions.ts';
export { cacheTag } from './cache/cacheTag.ts';
export { defaultCacheTtlMs, parseCacheTtl } from './cache/cacheTtl.ts';
export { lazyRegistryImageSource } from './cache/lazyRegistryImageSource.ts';
export type { RegistryLayerCache, RegistryLayerCacheOptions } from './cache/registryLayerCache.ts';
export { cacheStepAnnotation, registryLayerCache } from './cache/registryLayerCache.ts';
export { RemoteBlobs } from './cache/remoteBlobs.ts';
export type { CacheKeyInput } from './cacheKey.ts';
export { stepCacheKey } from './cacheKey.ts';
export { directoryLayerCache } from './directoryLayerCache.ts';
export type { BuildEvent, BuildEventListener, PushProgressDetail } from './events.ts';
export type { ContainerExecutorOptions } from './executor/containerExecutor.ts';
export { ContainerExecutor, parseMountInfo } from './executor/containerExecutor.ts';
export type {
  ExecCommand,
  ExecUser,
  Executor,
  ExecutorKind,
  IgnoreRule,
  OutputStream,
  RunOptions,
  StageRootRequest,
} from './executor/executor.ts';
export type { ProcessSpec } from './executor/runProcess.ts';
export { runProcess } from './executor/runProcess.ts';
export type { SandboxExecutorOptions, SandboxIsolation } from './executor/sandboxExecutor.ts';
export { SandboxExecutor } from './executor/sandboxExecutor.ts';
export type { CreateExecutorOptions, SelectExecutorOptions } from './executor/selectExecutor.ts';
export { createExecutor, executorImageMarker, selectExecutorKind } from './executor/selectExecutor.ts';
export type { BuiltImage } from './image/assembleImage.ts';
export type { CachedStep, LayerCache } from './layerCache.ts';
export type { OutputPaths } from './output/checkOutputPaths.ts';
export { checkOutputPaths } from './output/checkOutputPaths.ts';
export { checkPushAccess } from './output/checkPushAccess.ts';
export type { OutputTarget } from './output/outputTarget.ts';
export { resolveOutputTarget } from './output/outputTarget.ts';
export type { WriteOutputOptions } from './output/writeOutputFile.ts';
export { writeOutputFile, writeOutputText } from './output/writeOutputFile.ts';
export type { OutputEnvironment, OutputOptions } from './output/writeOutputs.ts';
export { parseDestinations, writeOutputs } from './output/writeOutputs.ts';
export { formatPlatform, hostPlatform, parsePlatform } from './plan/platform.ts';
export { resolveUser } from './stage/resolveUser.ts';
export type { StageLayer } from './stage/stageState.ts';
