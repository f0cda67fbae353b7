import type { BlobStore, Descriptor, Digest, ImageIndex, Platform } from '@kiln/image';
import { indexMediaTypeFor, MediaType } from '@kiln/image';
import type { BuiltImage } from './assembleImage.ts';

/** One platform's image of a multi-platform build. */
export interface PlatformImage {
  platform: Platform;
  image: BuiltImage;
}

export interface BuiltIndex {
  index: ImageIndex;
  /** The exact bytes pushed and written (the digest is of these). */
  indexBytes: Uint8Array;
  digest: Digest;
  mediaType: string;
  /** Each platform's image, in index order. */
  images: PlatformImage[];
  /** The index and every platform's image, in bytes (shared layers counted once per platform). */
  size: number;
}

/**
 * The image index naming each platform's manifest with its `platform` descriptor, as BuildKit
 * pushes it: a Docker manifest list when every manifest is Docker v2 (`--image-format docker`),
 * else an OCI image index. Written into the store.
 */
export async function assembleIndex(images: PlatformImage[], store: BlobStore): Promise<BuiltIndex> {
  // One build writes one format, so the types never mix; OCI if they somehow did.
  const mediaType =
    indexMediaTypeFor(images.map(({ image }) => image.manifest.mediaType)) ?? MediaType.ociIndex;
  const manifests: Descriptor[] = images.map(({ platform, image }) => ({
    mediaType: image.manifest.mediaType ?? MediaType.ociManifest,
    digest: image.digest,
    size: image.manifestBytes.byteLength,
    // The platform asked for, as BuildKit's exporter names it, even when the target stage was
    // built FROM --platform=$BUILDPLATFORM or on a base with no image for it.
    platform,
  }));
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  const indexBytes = Buffer.from(JSON.stringify(index), 'utf8');
  const written = await store.write(indexBytes);
  const size = written.size + images.reduce((total, { image }) => total + image.size, 0);
  return { index, indexBytes, digest: written.digest, mediaType, images, size };
}
