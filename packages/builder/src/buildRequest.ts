import type { Compression, Digest, Platform } from '@kiln/image';
import type { RegistryClientOptions } from '@kiln/registry';
import type { SnapshotStrategyName } from '@kiln/snapshot';
import type { GitContextOptions } from './context/gitContext.ts';
import type { BuildNetwork, ExecutorKind } from './executor/executor.ts';
import type { SecretSource, SshSource } from './secrets/buildSecrets.ts';

export type ImageFormat = 'oci' | 'docker' | 'auto';

/** Everything `build()` needs: what to build, how, where to cache it and where it goes. */
export interface BuildRequest {
  /**
   * A directory (`dir://` optional), a tarball (`tar://PATH`, `.tar.gz`, `tar://stdin` or `-`), or a
   * remote one Kaniko takes: `https://…`, `git://HOST/REPO[#REF[#COMMIT]]`, `s3://…`, `gs://…`.
   */
  context: string;
  /** Kaniko's `--context-sub-path`: a directory inside the context. */
  contextSubPath?: string;
  /** Kaniko's `--git` options for a `git://` context. */
  git?: GitContextOptions;
  /** Dockerfile path as the user gave it (tried in the working directory, then the context), or an http(s) URL. */
  dockerfile?: string;
  /** The Dockerfile's text itself (read from stdin); `dockerfile` then only names it in messages. */
  dockerfileText?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** `--label`: set on the final image after the Dockerfile's LABELs. */
  labels: Record<string, string>;
  /**
   * TARGETPLATFORMs; default the host's. One gives an image manifest; several give an image index
   * (a Docker manifest list with `imageFormat: 'docker'`) of one image per platform.
   */
  platforms?: Platform[];
  snapshotStrategy: SnapshotStrategyName;
  singleSnapshot: boolean;
  /** Timestamps from `sourceDateEpoch` (or 0) in config, history and layers. */
  reproducible: boolean;
  sourceDateEpoch?: number;
  /** In-image paths left out of every layer. */
  ignorePaths: string[];
  compression: Compression;
  /**
   * Media types of the image: `oci` (Kiln's default), `docker` (Docker v2, for registries that want
   * it), or `auto`: Docker v2 unless the target's base image is OCI, as Kaniko writes it.
   */
  imageFormat?: ImageFormat;
  /**
   * Kaniko's `--image-fs-extract-retry`: base layers extracted again after a failure, a second
   * apart (a blob the shared store held corrupt is dropped, so the retry fetches it anew). Default 0.
   */
  imageFsExtractRetries?: number;
  /** `--annotation`: set on the image manifest (OCI media types only; Docker v2 has no annotations). */
  annotations?: Record<string, string>;
  compressionLevel?: number;
  /** `auto`: `container` only inside Kiln's executor image. */
  executor: ExecutorKind | 'auto';
  /** Allows `container` outside the executor image (it overwrites `/`). */
  force: boolean;
  /** RUN's network: the host's (default, as Kaniko), none, or a namespace of its own (`sandbox`). */
  network?: BuildNetwork;
  /** BuildKit's entitlements (`security.insecure`, `network.host`); none by default. */
  allow?: string[];
  /** Parent of this build's fresh work dir; default the temp dir (container mode: /kiln/work). */
  kilnDir?: string;
  /** Container mode: leave `/var/run` out of snapshots (default true, Kaniko's `--ignore-var-run`). */
  ignoreVarRun?: boolean;
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
  /** The image's manifest digest; the index's when several platforms were built. */
  digest: Digest;
  /** Several platforms: each one's manifest digest, in index order. */
  platforms?: { platform: string; digest: Digest }[];
  /** The target stage's name. */
  target: string;
  /** Destinations pushed (`repository:tag` as given). */
  destinations: string[];
  /** Build args given but declared nowhere. */
  unusedBuildArgs: string[];
}
