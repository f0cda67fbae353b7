import type { Digest, ImageConfig, ImageManifest, Platform } from '@kiln/image';

/** A base image whose manifest, config and layer blobs are in the build's blob store. */
export interface PulledImage {
  /** As the user wrote it, normalised (`index.docker.io/library/alpine:3`). */
  reference: string;
  /** Manifest digest: the cache key's root. */
  digest: Digest;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Where base images come from: a registry in real builds, an OCI layout in some tests. */
export interface ImageSource {
  pull(reference: string, platform: Platform): Promise<PulledImage>;
}
