import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from './blobStore.ts';
import { type Digest, sha256Digest } from './digest.ts';
import { writeDockerArchive } from './dockerArchive.ts';
import { MediaType } from './mediaTypes.ts';
import { readOciLayout } from './ociLayout.ts';
import type { ImageConfig, ImageManifest } from './types.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-dockerarchive-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Layers made by GNU tar and compressed by gzip or zstd, so no Kiln tar code is involved. */
async function image(store: BlobStore) {
  const diffIds: Digest[] = [];
  const layers = [];
  for (const [i, tool] of ['gzip', 'zstd'].entries()) {
    const tree = join(dir, `tree${i}`);
    await mkdir(join(tree, 'etc'), { recursive: true });
    await writeFile(join(tree, 'etc', `file${i}`), `layer ${i}\n`);
    const tar = execFileSync('tar', ['-C', tree, '--sort=name', '-c', '.']);
    const blob = execFileSync(tool, tool === 'gzip' ? ['-n'] : ['-q', '-c'], { input: tar });
    const { digest, size } = await store.write(blob);
    diffIds.push(sha256Digest(tar));
    layers.push({
      mediaType: tool === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd,
      digest,
      size,
    });
  }
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/true'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const c = await store.writeJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: c.digest, size: c.size },
    layers,
  };
  return { manifest, config };
}

describe('docker-archive', () => {
  it('writes a tarball skopeo inspects and copies, with uncompressed layers matching the diffIDs', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const { manifest, config } = await image(store);
    const archive = join(dir, 'image.tar');
    await writeDockerArchive(archive, [{ manifest, tags: ['example.com/app:1.0'] }], store);

    const listing = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toContain('manifest.json');
    expect(listing).toContain('repositories');
    const manifestJson = JSON.parse(
      execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }),
    );
    expect(manifestJson[0].RepoTags).toEqual(['example.com/app:1.0']);
    const firstLayer = execFileSync('tar', ['-xOf', archive, manifestJson[0].Layers[0]]);
    expect(sha256Digest(firstLayer)).toBe(config.rootfs.diff_ids[0]);

    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' }),
    );
    expect(inspected.Layers).toHaveLength(2);
    expect(inspected.Os).toBe('linux');

    const layout = join(dir, 'layout');
    execFileSync('skopeo', ['copy', `docker-archive:${archive}`, `oci:${layout}:copied`], { stdio: 'pipe' });
    const copied = await readOciLayout(layout, 'copied');
    expect(copied.config.rootfs.diff_ids).toEqual(config.rootfs.diff_ids);
    expect(copied.config.config?.Cmd).toEqual(['/bin/true']);
  });

  it('refuses a layer that does not match its diffID and leaves no file behind', async () => {
    const store = new BlobStore(join(dir, 'store'));
    const { manifest, config } = await image(store);
    const bad = {
      ...config,
      rootfs: { type: 'layers' as const, diff_ids: [sha256Digest('x'), sha256Digest('y')] },
    };
    const c = await store.writeJson(bad);
    const archive = join(dir, 'bad.tar');
    await expect(
      writeDockerArchive(
        archive,
        [
          {
            manifest: { ...manifest, config: { ...manifest.config, digest: c.digest, size: c.size } },
            tags: [],
          },
        ],
        store,
      ),
    ).rejects.toMatchObject({ code: 'DIFF_ID_MISMATCH' });
    await expect(readFile(archive)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
