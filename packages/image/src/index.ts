export type {
  BlobSource,
  BlobStoreOptions,
  BlobWriteOptions,
  BlobWriteResult,
  BlobWriter,
} from './blobStore.ts';
export { BlobStore } from './blobStore.ts';
export type { Digest } from './digest.ts';
export { digestHex, isDigest, parseDigest, sha256Digest } from './digest.ts';
export type { DockerArchiveImage } from './dockerArchive.ts';
export { writeDockerArchive } from './dockerArchive.ts';
export { indexMediaTypeFor, platformKey, platformOfConfig } from './imageIndex.ts';
export type { Compression, MediaTypeName } from './mediaTypes.ts';
export {
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  MediaType,
  ociLayerMediaType,
} from './mediaTypes.ts';
export type { MultiPlatformArchive } from './multiPlatformArchive.ts';
export { writeMultiPlatformArchive } from './multiPlatformArchive.ts';
export type {
  LayoutImage,
  LayoutImageIndex,
  OciLayoutImage,
  ReadOciLayoutOptions,
  WriteOciIndexResult,
  WriteOciLayoutResult,
} from './ociLayout.ts';
export { readOciLayout, refNameAnnotation, writeOciIndexLayout, writeOciLayout } from './ociLayout.ts';
export { formatPlatform, hostPlatform, parsePlatform } from './platform.ts';
export type { ParseReferenceOptions, Reference } from './reference.ts';
export {
  createReference,
  dockerHubRegistry,
  isDockerHub,
  manifestIdentifier,
  parseReference,
  withDigest,
  withTag,
} from './reference.ts';
export type {
  ContainerConfig,
  Descriptor,
  HealthConfig,
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  Platform,
} from './types.ts';
export { parseDescriptor, parseImageConfig, parseIndex, parseManifest } from './validateImageJson.ts';
