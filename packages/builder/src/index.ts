export type { BuildOptions } from './build.ts';
export { build } from './build.ts';
export type { BuildRequest, BuildResult, CacheRequest, OutputRequest } from './buildRequest.ts';
export { defaultCacheTtlMs, parseCacheTtl } from './cache/cacheTtl.ts';
export type { BuildEvent, BuildEventListener, PushProgressDetail } from './events.ts';
