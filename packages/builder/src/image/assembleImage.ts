import { KilnError } from '@kiln/errors';
import type { BlobStore, Descriptor, Digest, ImageConfig, ImageManifest } from '@kiln/image';
import { MediaType } from '@kiln/image';
import type { ImageFormat } from '../buildRequest.ts';
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

const dockerLayer = 'application/vnd.docker.image.rootfs.diff.tar';

// Same bytes, the other format's name: base layers join the image under its media types.
const ociLayerType: Record<string, string> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  [dockerLayer]: MediaType.ociLayer,
};
const dockerLayerType: Record<string, string> = {
  [MediaType.ociLayerGzip]: MediaType.dockerLayerGzip,
  [MediaType.ociLayer]: dockerLayer,
};

/**
 * The same image under OCI media types (layers and config unchanged, so only the manifest and its
 * digest differ): what an OCI layout holds, since skopeo and umoci find nothing else by tag.
 */
export function asOciManifest(manifest: ImageManifest): ImageManifest {
  if (manifest.mediaType !== MediaType.dockerManifest) return manifest;
  return {
    ...manifest,
    mediaType: MediaType.ociManifest,
    config: { ...manifest.config, mediaType: MediaType.ociConfig },
    layers: manifest.layers.map((layer) => ({
      ...layer,
      mediaType: ociLayerType[layer.mediaType] ?? layer.mediaType,
    })),
  };
}

/** Kaniko's rule: Docker v2 unless the base image is OCI (scratch counts as Docker). */
export function resolveImageFormat(format: ImageFormat, baseMediaType: string | undefined): 'oci' | 'docker' {
  if (format !== 'auto') return format;
  return baseMediaType?.startsWith('application/vnd.oci.') ? 'oci' : 'docker';
}

/** Writes the stage's config and its manifest (OCI or Docker v2 media types) into the store. */
export async function assembleImage(
  state: StageState,
  store: BlobStore,
  format: ImageFormat = 'oci',
  annotations: Record<string, string> = {},
): Promise<BuiltImage> {
  const zstd = state.layers.some((layer) => layer.descriptor.mediaType.endsWith('+zstd'));
  // Docker v2 has no zstd layer type: `auto` then writes OCI, and `docker` is refused.
  const docker = resolveImageFormat(format, state.baseMediaType) === 'docker' && !(zstd && format === 'auto');
  if (docker && zstd) {
    throw new KilnError('ZSTD_NEEDS_OCI', 'zstd layers need OCI media types; Docker v2 has none for them', {
      hint: 'use --image-format oci, or --compression gzip',
      exitCode: 2,
    });
  }
  const annotated = Object.keys(annotations).length > 0;
  if (docker && annotated) {
    throw new KilnError(
      'ANNOTATIONS_NEED_OCI',
      'manifest annotations need OCI media types; this image is Docker v2',
      {
        hint: 'add --image-format oci (Docker v2 manifests have no annotations)',
        exitCode: 2,
      },
    );
  }
  const layerType = docker ? dockerLayerType : ociLayerType;
  const config: ImageConfig = {
    ...state.config,
    rootfs: { type: 'layers', diff_ids: state.layers.map((layer) => layer.diffId) },
    history: state.history,
  };
  const configBlob = await store.writeJson(config);
  const layers: Descriptor[] = state.layers.map((layer) => ({
    mediaType: layerType[layer.descriptor.mediaType] ?? layer.descriptor.mediaType,
    digest: layer.descriptor.digest,
    size: layer.descriptor.size,
    ...(layer.descriptor.urls ? { urls: layer.descriptor.urls } : {}),
  }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
    config: {
      mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
      digest: configBlob.digest,
      size: configBlob.size,
    },
    layers,
    ...(annotated ? { annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const written = await store.write(manifestBytes);
  const size = written.size + configBlob.size + layers.reduce((total, layer) => total + layer.size, 0);
  return { manifest, manifestBytes, digest: written.digest, config, configDigest: configBlob.digest, size };
}
