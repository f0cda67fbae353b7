export type { BuildOptions } from './build.ts';
export { build } from './build.ts';
export type { BuildRequest, BuildResult } from './buildRequest.ts';
export { parseCacheTtl } from './cache/cacheTtl.ts';
export type { GitContextOptions } from './context/gitContext.ts';
export { parseGitFlags } from './context/parseGitFlags.ts';
export type { BuildEvent } from './events.ts';
