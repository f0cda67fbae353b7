import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from './blobStore.ts';
import { sha256Digest } from './digest.ts';
import { MediaType } from './mediaTypes.ts';
import { writeMultiPlatformArchive } from './multiPlatformArchive.ts';
import { readOciLayout, writeOciIndexLayout, writeOciLayout } from './ociLayout.ts';
import type { ImageConfig, ImageManifest } from './types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-ocilayout-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An image with one layer made by GNU tar + gzip, so nothing here is Kiln's own tar code. */
async function imageFromTar(store: BlobStore, files: Record<string, string>) {
  const tree = join(dir, `tree-${Object.keys(files).join('-').replaceAll('/', '_')}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), content);
  }
  const tar = execFileSync('tar', ['-C', tree, '--sort=name', '--owner=0', '--group=0', '-c', '.']);
  const gz = execFileSync('gzip', ['-n', '-1'], { input: tar });
  const layer = await store.write(gz);
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
  };
  const configBlob = await store.writeJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: layer.digest, size: layer.size }],
  };
  return { manifest, config };
}

describe('OCI image layout', () => {
  it('writes a layout that umoci unpacks and skopeo inspects, and reads it back', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const image = await imageFromTar(store, { 'etc/hello': 'hello\n', 'bin/tool': 'x' });
    const layout = join(dir, 'layout');
    const { manifests } = await writeOciLayout(layout, [{ ...image, tag: 'v1' }], store);
    expect(manifests[0]?.annotations).toEqual({ 'org.opencontainers.image.ref.name': 'v1' });

    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci:${layout}:v1`], { encoding: 'utf8' }),
    );
    expect(inspected.Digest).toBe(manifests[0]?.digest);
    expect(inspected.Layers).toEqual([image.manifest.layers[0]?.digest]);

    const bundle = join(dir, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
    expect(await readFile(join(bundle, 'rootfs', 'etc', 'hello'), 'utf8')).toBe('hello\n');

    const read = await readOciLayout(layout, 'v1');
    expect(read.manifestDigest).toBe(manifests[0]?.digest);
    expect(read.config).toEqual(image.config);
    expect(read.layers).toEqual(image.manifest.layers);
    expect(await read.store.has(image.manifest.layers[0]!.digest)).toBe(true);
    expect(read.tag).toBe('v1');
    // The only image is found without a tag too.
    expect((await readOciLayout(layout)).manifestDigest).toBe(read.manifestDigest);
  });

  it('adds images to an existing layout, replacing a re-used tag', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const a = await imageFromTar(store, { a: 'a' });
    const b = await imageFromTar(store, { b: 'b' });
    const layout = join(dir, 'layout');
    await writeOciLayout(
      layout,
      [
        { ...a, tag: 'one' },
        { ...a, tag: 'two' },
      ],
      store,
    );
    await writeOciLayout(layout, [{ ...b, tag: 'two' }], store);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(
      index.manifests.map((d: { annotations: Record<string, string> }) => Object.values(d.annotations)[0]),
    ).toEqual(['one', 'two']);
    expect((await readOciLayout(layout, 'two')).layers).toEqual(b.manifest.layers);
    await expect(readOciLayout(layout)).rejects.toMatchObject({ code: 'AMBIGUOUS_IMAGE' });
    await expect(readOciLayout(layout, 'three')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  it('reads a layout that skopeo wrote', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const image = await imageFromTar(store, { f: 'content' });
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [{ ...image, tag: 'src' }], store);
    const copy = join(dir, 'copy');
    execFileSync('skopeo', ['copy', `oci:${layout}:src`, `oci:${copy}:dst`], { stdio: 'pipe' });
    const read = await readOciLayout(copy, 'dst');
    expect(read.config.rootfs.diff_ids).toEqual(image.config.rootfs.diff_ids);
    expect(read.layers.map((l) => l.digest)).toEqual(image.manifest.layers.map((l) => l.digest));
  });

  it('refuses what is not a layout and config blobs that do not match the manifest', async () => {
    await expect(readOciLayout(dir)).rejects.toMatchObject({ code: 'INVALID_OCI_LAYOUT' });
    const store = new BlobStore(join(dir, 'store'));
    const image = await imageFromTar(store, { f: 'x' });
    await expect(
      writeOciLayout(join(dir, 'bad'), [{ ...image, config: { ...image.config, os: 'windows' } }], store),
    ).rejects.toMatchObject({ code: 'CONFIG_MISMATCH' });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"sha256:00"}]}');
    await expect(readOciLayout(dir)).rejects.toMatchObject({ code: 'INVALID_INDEX' });
  });
});

describe('multi-platform OCI layout and archive', () => {
  async function twoPlatforms(store: BlobStore) {
    const amd64 = await imageFromTar(store, { arch: 'amd64\n' });
    const arm64 = await imageFromTar(store, { 'arch-arm': 'arm64\n' });
    const armConfig: ImageConfig = { ...arm64.config, architecture: 'arm64' };
    const armBlob = await store.writeJson(armConfig);
    const armManifest: ImageManifest = {
      ...arm64.manifest,
      config: { ...arm64.manifest.config, digest: armBlob.digest, size: armBlob.size },
    };
    return [amd64, { manifest: armManifest, config: armConfig }];
  }

  it('index.json names an image index that lists each platform; skopeo and readOciLayout follow it', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const images = await twoPlatforms(store);
    const layout = join(dir, 'layout');
    const written = await writeOciIndexLayout(layout, { images, tags: ['v1'] }, store);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([
      { ...written.index, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
    ]);
    const raw = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `oci:${layout}:v1`], { encoding: 'utf8' }),
    );
    expect(raw.mediaType).toBe(MediaType.ociIndex);
    expect(raw.manifests.map((m: { platform: unknown }) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ]);
    const arm = await readOciLayout(layout, 'v1', { platform: { os: 'linux', architecture: 'arm64' } });
    expect(arm.config.architecture).toBe('arm64');
  });

  it('the archive is an oci-archive skopeo reads and carries Docker’s manifest.json for each platform', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const images = await twoPlatforms(store);
    const tar = join(dir, 'image.tar');
    await writeMultiPlatformArchive(
      tar,
      {
        images,
        tags: ['v1'],
        repoTags: ['r.test/app:v1'],
        tagPlatform: { os: 'linux', architecture: 'arm64' },
      },
      store,
    );
    const raw = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${tar}:v1`], { encoding: 'utf8' }),
    );
    expect(raw.manifests).toHaveLength(2);
    const manifestJson = JSON.parse(
      execFileSync('tar', ['-xOf', tar, 'manifest.json'], { encoding: 'utf8' }),
    );
    expect(manifestJson).toEqual([
      {
        Config: `blobs/sha256/${images[0]!.manifest.config.digest.slice(7)}`,
        RepoTags: [],
        Layers: [`blobs/sha256/${images[0]!.manifest.layers[0]!.digest.slice(7)}`],
      },
      {
        Config: `blobs/sha256/${images[1]!.manifest.config.digest.slice(7)}`,
        RepoTags: ['r.test/app:v1'],
        Layers: [`blobs/sha256/${images[1]!.manifest.layers[0]!.digest.slice(7)}`],
      },
    ]);
    const entries = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    for (const image of manifestJson)
      for (const name of [image.Config, ...image.Layers]) expect(entries).toContain(name);
  });
});
