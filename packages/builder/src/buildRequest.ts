import type { Compression, Digest, Platform } from '@kiln/image';
import type { RegistryClientOptions } from '@kiln/registry';
import type { SnapshotStrategyName } from '@kiln/snapshot';
import type { ExecutorKind } from './executor/executor.ts';
import type { SecretSource, SshSource } from './secrets/buildSecrets.ts';

/** Everything `build()` needs: what to build, how, where to cache it and where it goes. */
export interface BuildRequest {
  /** A directory (`dir://` optional) or a tarball (`tar://`, `.tar`, `.tar.gz`). */
  context: string;
  /** Dockerfile path as the user gave it (tried in the working directory, then the context). */
  dockerfile?: string;
  /** The Dockerfile's text itself (read from stdin); `dockerfile` then only names it in messages. */
  dockerfileText?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** `--label`: set on the final image after the Dockerfile's LABELs. */
  labels: Record<string, string>;
  /** TARGETPLATFORM; default the host's. */
  platform?: Platform;
  snapshotStrategy: SnapshotStrategyName;
  singleSnapshot: boolean;
  /** Timestamps from `sourceDateEpoch` (or 0) in config, history and layers. */
  reproducible: boolean;
  sourceDateEpoch?: number;
  /** In-image paths left out of every layer. */
  ignorePaths: string[];
  compression: Compression;
  compressionLevel?: number;
  /** `auto`: `container` only inside Kiln's executor image. */
  executor: ExecutorKind | 'auto';
  /** Allows `container` outside the executor image (it overwrites `/`). */
  force: boolean;
  /** Parent of this build's fresh work dir; default the temp dir (container mode: /kiln/work). */
  kilnDir?: string;
  /** Container mode: more host paths to keep when `/` is emptied (e.g. a trace file the caller writes). */
  keepPaths?: string[];
  /** How to reach registries (credentials, TLS, mirrors, retries). */
  registry: Omit<RegistryClientOptions, 'onEvent'>;
  cache: CacheRequest;
  outputs: OutputRequest;
  /** `--secret`: what RUN --mount=type=secret reads; never in a layer, key, history or message. */
  secrets?: SecretSource[];
  /** `--ssh`: agent sockets RUN --mount=type=ssh forwards to. */
  ssh?: SshSource[];
}

export interface CacheRequest {
  /** `--cache`: use the layer cache (the registry repository, else `dir`). */
  enabled: boolean;
  /** Default `<first destination's repository>/cache`. */
  repository?: string;
  /** On-disk blob store (and step cache without a repository) shared across builds. */
  dir?: string;
  /** Entries older than this are misses; default two weeks. */
  ttlMs?: number;
  /** False: read the cache, write nothing to it. */
  push: boolean;
  runLayers: boolean;
  copyLayers: boolean;
}

export interface OutputRequest {
  destinations: string[];
  push: boolean;
  /** Check every destination accepts pushes before building. */
  checkPushAccess: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  imageNameTagWithDigestFile?: string;
}

export interface BuildResult {
  digest: Digest;
  /** The target stage's name. */
  target: string;
  /** Destinations pushed (`repository:tag` as given). */
  destinations: string[];
  /** Build args given but declared nowhere. */
  unusedBuildArgs: string[];
}
