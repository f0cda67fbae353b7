import type { BlobStore, Platform } from '@kiln/image';
import type { ImageSource } from './base/imageSource.ts';
import type { BuildRequest } from './buildRequest.ts';
import type { BuildEventListener } from './events.ts';
import type { Executor } from './executor/executor.ts';
import type { LayerCache } from './layerCache.ts';
import type { BuildSecrets } from './secrets/buildSecrets.ts';
import type { SharedStages } from './stage/sharedStages.ts';
import type { StageLayer } from './stage/stageState.ts';

/** What `buildImage` builds: the request's build settings, with the context and Dockerfile read. */
export type BuildInput = Pick<
  BuildRequest,
  | 'target'
  | 'buildArgs'
  | 'labels'
  | 'snapshotStrategy'
  | 'singleSnapshot'
  | 'reproducible'
  | 'sourceDateEpoch'
  | 'ignorePaths'
  | 'compression'
  | 'compressionLevel'
  | 'network'
  | 'allow'
  | 'imageFormat'
  | 'annotations'
  | 'imageFsExtractRetries'
> & {
  /** TARGETPLATFORM of this image; default the host's. */
  platform?: Platform;
  /** The build context directory (tarball contexts unpacked first). */
  contextDir: string;
  dockerfileText: string;
  /** For messages: `Dockerfile`, `ci/Dockerfile.prod`. */
  dockerfileName: string;
  /** Where the Dockerfile is on disk (absent for stdin): `<it>.dockerignore` beside it wins over the context's. */
  dockerfilePath?: string;
};

export interface BuildEnvironment {
  executor: Executor;
  /** Where base images come from (the registry client in real builds). */
  images: ImageSource;
  /** Blobs of base images, new layers, config and manifest. */
  store: BlobStore;
  /** Scratch space of this build (downloads, heredocs, image trees for COPY --from=image). */
  workDir: string;
  cache?: LayerCache;
  /** Which steps use `cache` (`--cache-run-layers`, `--cache-copy-layers`); both by default. */
  cacheLayers?: { run?: boolean; copy?: boolean };
  /** Where RUN --mount=type=cache dirs live; default under `workDir` (gone after the build). */
  cacheMountDir?: string;
  /** `--secret` and `--ssh` for RUN --mount=type=secret|ssh. */
  secrets?: BuildSecrets;
  /**
   * Downloads layer blobs not in `store` yet (bases pulled without layers, cache hits) just
   * before they are extracted; absent when every blob is already local.
   */
  fetchBlobs?: (layers: StageLayer[]) => Promise<void>;
  onEvent?: BuildEventListener;
  signal?: AbortSignal;
  /** Multi-platform builds: stages the platforms share, built once (one per `build()`). */
  shared?: SharedStages;
}
