import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, MediaType, type Platform, sha256Digest } from '@kiln/image';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageState } from '../stage/stageState.ts';
import { assembleImage } from './assembleImage.ts';
import { assembleIndex } from './assembleIndex.ts';

let dir: string;
let store: BlobStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-index-'));
  store = new BlobStore(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function stage(architecture: string): StageState {
  return {
    name: '0',
    index: 0,
    config: { architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } },
    history: [],
    layers: [
      {
        descriptor: { mediaType: MediaType.ociLayerGzip, digest: sha256Digest(architecture), size: 10 },
        diffId: sha256Digest(`${architecture}-tar`),
      },
    ],
    args: new Map(),
    cacheKey: '',
    root: dir,
  };
}

const amd64: Platform = { os: 'linux', architecture: 'amd64' };
const arm64: Platform = { os: 'linux', architecture: 'arm64' };

describe('assembleIndex', () => {
  it('writes an OCI image index naming each platform’s manifest, in order', async () => {
    const images = [
      { platform: amd64, image: await assembleImage(stage('amd64'), store, 'oci') },
      { platform: arm64, image: await assembleImage(stage('arm64'), store, 'oci') },
    ];
    const built = await assembleIndex(images, store);
    expect(built.mediaType).toBe(MediaType.ociIndex);
    expect(built.index).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: images.map(({ platform, image }) => ({
        mediaType: MediaType.ociManifest,
        digest: image.digest,
        size: image.manifestBytes.byteLength,
        platform,
      })),
    });
    expect(built.digest).toBe(sha256Digest(built.indexBytes));
    expect(Buffer.from(await store.readBytes(built.digest)).equals(Buffer.from(built.indexBytes))).toBe(true);
  });

  it('is a Docker manifest list of Docker manifests with --image-format docker', async () => {
    const built = await assembleIndex(
      [
        { platform: amd64, image: await assembleImage(stage('amd64'), store, 'docker') },
        { platform: arm64, image: await assembleImage(stage('arm64'), store, 'docker') },
      ],
      store,
    );
    expect(built.index.mediaType).toBe(MediaType.dockerManifestList);
    expect(built.index.manifests.map((m) => m.mediaType)).toEqual([
      MediaType.dockerManifest,
      MediaType.dockerManifest,
    ]);
  });

  it('names the platform asked for, even when the image’s config says another (a build-platform target)', async () => {
    const built = await assembleIndex(
      [{ platform: arm64, image: await assembleImage(stage('amd64'), store, 'oci') }],
      store,
    );
    expect(built.index.manifests[0]?.platform).toEqual(arm64);
  });
});
