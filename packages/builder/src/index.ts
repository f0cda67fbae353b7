export type { BuildOptions } from './build.ts';
export { build } from './build.ts';
export type { BuildRequest, BuildResult } from './buildRequest.ts';
export { parseCacheTtl } from './cache/cacheTtl.ts';
export type { BuildEvent } from './events.ts';
export type { BuildNetwork } from './executor/executor.ts';
export { checkOutputPaths } from './output/checkOutputPaths.ts';
export { writeOutputText } from './output/writeOutputFile.ts';
