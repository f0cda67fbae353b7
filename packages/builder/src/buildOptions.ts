import type { BlobStore, Compression, Platform } from '@kiln/image';
import type { SnapshotStrategyName } from '@kiln/snapshot';
import type { ImageSource } from './base/imageSource.ts';
import type { BuildEventListener } from './events.ts';
import type { Executor } from './executor/executor.ts';
import type { LayerCache } from './layerCache.ts';
import type { StageLayer } from './stage/stageState.ts';

export interface BuildInput {
  /** The build context directory (the CLI unpacks tar contexts first). */
  contextDir: string;
  dockerfileText: string;
  /** For messages: `Dockerfile`, `ci/Dockerfile.prod`. */
  dockerfileName: string;
  /** Where the Dockerfile is on disk (absent for stdin): `<it>.dockerignore` beside it wins over the context's. */
  dockerfilePath?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** `--label`: set on the final image after the Dockerfile's LABELs. */
  labels: Record<string, string>;
  /** TARGETPLATFORM; default the host's. */
  platform?: Platform;
  snapshotStrategy: SnapshotStrategyName;
  singleSnapshot: boolean;
  /** Timestamps from SOURCE_DATE_EPOCH (or 0) in config, history and layers. */
  reproducible: boolean;
  sourceDateEpoch?: number;
  /** `--ignore-path`: in-image paths left out of every snapshot. */
  ignorePaths: string[];
  compression: Compression;
  compressionLevel?: number;
}

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
  /**
   * Downloads layer blobs not in `store` yet (bases pulled without layers, cache hits) just
   * before they are extracted; absent when every blob is already local.
   */
  fetchBlobs?: (layers: StageLayer[]) => Promise<void>;
  onEvent?: BuildEventListener;
  signal?: AbortSignal;
}
