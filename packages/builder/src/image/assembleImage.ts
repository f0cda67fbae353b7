import type { BlobStore, Descriptor, Digest, ImageConfig, ImageManifest } from '@kiln/image';
import { MediaType } from '@kiln/image';
import type { StageState } from '../stage/stageState.ts';

export interface BuiltImage {
  manifest: ImageManifest;
  /** The exact bytes pushed and written (the digest is of these). */
  manifestBytes: Uint8Array;
  digest: Digest;
  config: ImageConfig;
  configDigest: Digest;
  /** Manifest + config + layers, in bytes. */
  size: number;
}

// Same bytes, OCI name: base layers pulled with Docker media types join an OCI manifest.
const ociLayerType: Record<string, string> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.ociLayer,
};

/** Writes the stage's config and an OCI manifest into the store. */
export async function assembleImage(state: StageState, store: BlobStore): Promise<BuiltImage> {
  const config: ImageConfig = {
    ...state.config,
    rootfs: { type: 'layers', diff_ids: state.layers.map((layer) => layer.diffId) },
    history: state.history,
  };
  const configBlob = await store.writeJson(config);
  const layers: Descriptor[] = state.layers.map((layer) => ({
    mediaType: ociLayerType[layer.descriptor.mediaType] ?? layer.descriptor.mediaType,
    digest: layer.descriptor.digest,
    size: layer.descriptor.size,
    ...(layer.descriptor.urls ? { urls: layer.descriptor.urls } : {}),
  }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const written = await store.write(manifestBytes);
  const size = written.size + configBlob.size + layers.reduce((total, layer) => total + layer.size, 0);
  return { manifest, manifestBytes, digest: written.digest, config, configDigest: configBlob.digest, size };
}
