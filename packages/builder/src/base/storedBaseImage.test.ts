import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, MediaType, parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedBaseImage } from './storedBaseImage.ts';

let dir: string;
let store: BlobStore;
const amd64 = { os: 'linux', architecture: 'amd64' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-stored-base-'));
  store = new BlobStore(join(dir, 'blobs'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storeImage() {
  const config = await store.writeJson({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
  });
  const manifest = await store.writeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: [],
  });
  const index = await store.writeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size, platform: amd64 },
    ],
  });
  return { config, manifest, index };
}

describe('storedBaseImage', () => {
  it('reads a digest-pinned manifest, or an index and its platform manifest, from the store', async () => {
    const { manifest, index } = await storeImage();
    for (const digest of [manifest.digest, index.digest]) {
      const image = await storedBaseImage(store, parseReference(`r.test/base@${digest}`), amd64);
      expect(image?.digest).toBe(manifest.digest);
      expect(image?.config.architecture).toBe('amd64');
    }
  });

  it('never resolves a tag, nor a digest it lacks, nor a platform the index does not have', async () => {
    const { index } = await storeImage();
    expect(await storedBaseImage(store, parseReference('r.test/base:1'), amd64)).toBeUndefined();
    expect(
      await storedBaseImage(store, parseReference(`r.test/base@sha256:${'0'.repeat(64)}`), amd64),
    ).toBeUndefined();
    const arm = { os: 'linux', architecture: 'arm64' };
    expect(await storedBaseImage(store, parseReference(`r.test/base@${index.digest}`), arm)).toBeUndefined();
  });
});
