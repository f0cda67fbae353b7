import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobStore,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  sha256Digest,
} from '@kiln/image';

export interface TestImage {
  store: BlobStore;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  imageConfig: ImageConfig;
}

/** A tiny image in a fresh blob store: random (non-tar) layer bytes are fine for a registry. */
export async function createTestImage(
  layerSizes: number[] = [2048, 4096],
  seed = Math.random(),
): Promise<TestImage> {
  const store = new BlobStore(await mkdtemp(join(tmpdir(), 'kiln-registry-test-')));
  const layers: Descriptor[] = [];
  for (const [index, size] of layerSizes.entries()) {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 32) bytes.write(`${seed}-${index}-${i}`.padEnd(32, '.').slice(0, 32), i);
    const { digest } = await store.write(bytes);
    layers.push({ mediaType: MediaType.ociLayerGzip, digest, size });
  }
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  await store.write(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(configBytes), size: configBytes.length },
    layers,
  };
  return { store, manifest, manifestBytes: Buffer.from(JSON.stringify(manifest)), imageConfig: config };
}

export async function emptyStore(): Promise<BlobStore> {
  return new BlobStore(await mkdtemp(join(tmpdir(), 'kiln-registry-store-')));
}
