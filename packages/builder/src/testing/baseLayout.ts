import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig, ImageManifest } from '@kiln/image';
import { BlobStore, MediaType, writeOciLayout } from '@kiln/image';
import { changeSetFromTree, writeLayer } from '@kiln/layer';
import { createBusyboxRoot } from './busyboxRoot.ts';

/**
 * A one-layer busybox base image as an OCI layout (tag `busybox`), built from the host's static
 * busybox with Kiln's own layer writer: the base of the builder's tests.
 */
export async function createBusyboxLayout(
  dir: string,
  config: Partial<ImageConfig['config']> = {},
): Promise<void> {
  const tree = await mkdtemp(join(tmpdir(), 'kiln-base-'));
  try {
    await createBusyboxRoot(tree);
    await mkdir(join(tree, 'root'), { mode: 0o700 });
    const store = new BlobStore(join(dir, '.store'));
    const layer = await writeLayer(changeSetFromTree(tree), tree, {
      store,
      compression: 'gzip',
      sourceDateEpoch: 0,
    });
    const imageConfig: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['sh'],
        ...config,
      },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'test busybox' }],
    };
    const configBlob = await store.writeJson(imageConfig);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    };
    await writeOciLayout(dir, [{ manifest, config: imageConfig, tag: 'busybox' }], store);
    await rm(join(dir, '.store'), { recursive: true, force: true });
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
