export type { BuildOptions } from './build.ts';
export { build } from './build.ts';
export type { BuildRequest, BuildResult } from './buildRequest.ts';
export { parseCacheTtl } from './cache/cacheTtl.ts';
export type { BuildEvent } from './events.ts';
export type { SecretSource, SshSource } from './secrets/buildSecrets.ts';
