import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { type ImageIndex, MediaType, parseReference, sha256Digest } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEvent } from './events.ts';
import { getManifest, putManifest } from './manifests.ts';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

const execFileAsync = promisify(execFile);
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
});
afterAll(async () => {
  await registry?.stop();
});

function plainClient(events: RegistryEvent[] = [], extra = {}) {
  return createRegistryClient({
    insecureRegistries: [registry.host],
    retryBaseDelayMs: 10,
    onEvent: (event) => events.push(event),
    ...extra,
  });
}

describe('push and pull against a real registry', () => {
  it('pushes an image that skopeo verifies, pulls it back, and re-pushes by HEAD only', async () => {
    const image = await createTestImage();
    const events: RegistryEvent[] = [];
    const client = plainClient(events);
    const destination = parseReference(`${registry.host}/kiln/app:1`);
    const result = await pushImage(client, image, [destination]);
    expect(result.digest).toBe(sha256Digest(image.manifestBytes));
    expect(result.pushed[0]!.uploaded).toHaveLength(3);
    expect(events.filter((e) => e.type === 'blob-done')).toHaveLength(3);
    expect(events.some((e) => e.type === 'blob-progress' && e.direction === 'push')).toBe(true);

    const layout = await mkdtemp(join(tmpdir(), 'kiln-skopeo-'));
    await execFileAsync('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${destination}`,
      `oci:${layout}:x`,
    ]);

    const store = await emptyStore();
    const pulled = await pullImage(client, destination, { store });
    expect(pulled.manifestDigest).toBe(result.digest);
    expect(pulled.config.rootfs.diff_ids).toEqual(image.imageConfig.rootfs.diff_ids);
    for (const layer of image.manifest.layers) expect(await store.has(layer.digest)).toBe(true);

    events.length = 0;
    const started = performance.now();
    const again = await pushImage(client, image, [destination]);
    expect(performance.now() - started).toBeLessThan(200);
    expect(again.pushed[0]!.skipped).toHaveLength(3);
    expect(events.filter((e) => e.type === 'blob-skipped')).toHaveLength(3);
    await client.close();
  });

  it('shares uploads across destinations: one upload, mounts for the other repositories', async () => {
    const image = await createTestImage();
    const client = plainClient();
    const destinations = [
      parseReference(`${registry.host}/share/a:1`),
      parseReference(`${registry.host}/share/a:latest`),
      parseReference(`${registry.host}/share/b:1`),
    ];
    const result = await pushImage(client, image, destinations);
    expect(result.pushed.map((p) => p.reference)).toEqual(destinations.map(String));
    expect(result.pushed[0]!.uploaded).toHaveLength(3);
    expect(result.pushed[2]!.mounted).toHaveLength(3);
    for (const destination of destinations) {
      expect((await getManifest(client, destination))?.digest).toBe(result.digest);
    }
    await client.close();
  });

  it('takes the config as bytes when the store does not hold it, refusing bytes of another digest', async () => {
    const image = await createTestImage([300]);
    const configBytes = await image.store.readBytes(image.manifest.config.digest);
    await rm(image.store.path(image.manifest.config.digest));
    const client = plainClient();
    const reference = parseReference(`${registry.host}/configbytes/app:1`);
    await expect(
      pushImage(client, { ...image, configBytes: Buffer.from('{"other":1}') }, [reference]),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await getManifest(client, reference)).toBeUndefined();
    const result = await pushImage(client, { ...image, configBytes }, [reference]);
    expect(result.pushed[0]!.uploaded).toContain(image.manifest.config.digest);
    await client.close();
  });

  it('pulls manifest and config only when fetchLayers is false, and reuses blobs already in the store', async () => {
    const image = await createTestImage();
    const client = plainClient();
    const reference = parseReference(`${registry.host}/lazy/app:1`);
    await pushImage(client, image, [reference]);
    const store = await emptyStore();
    const lazy = await pullImage(client, reference, { store, fetchLayers: false });
    expect(await store.has(lazy.manifest.config.digest)).toBe(true);
    expect(await store.has(lazy.layers[0]!.digest)).toBe(false);
    const events: RegistryEvent[] = [];
    await pullImage(plainClient(events), reference, { store });
    expect(events.filter((e) => e.type === 'blob-skipped' && e.reason === 'in-store')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'blob-done')).toHaveLength(2);
    await client.close();
  });

  it('selects the platform from an index', async () => {
    const client = plainClient();
    const amd = await createTestImage([100]);
    const arm = await createTestImage([200]);
    const repo = `${registry.host}/multi/app`;
    const amdPushed = await pushImage(client, amd, [parseReference(`${repo}:amd64`)]);
    const armPushed = await pushImage(client, arm, [parseReference(`${repo}:arm64`)]);
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: amdPushed.digest,
          size: amd.manifestBytes.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: armPushed.digest,
          size: arm.manifestBytes.length,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    };
    const indexBytes = Buffer.from(JSON.stringify(index));
    await putManifest(client, parseReference(`${repo}:multi`), indexBytes, MediaType.ociIndex);
    const pulled = await pullImage(client, parseReference(`${repo}:multi`), {
      store: await emptyStore(),
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(pulled.manifestDigest).toBe(armPushed.digest);
    expect(pulled.indexDigest).toBe(sha256Digest(indexBytes));
    await expect(
      pullImage(client, parseReference(`${repo}:multi`), {
        store: await emptyStore(),
        platform: { os: 'linux', architecture: 's390x' },
      }),
    ).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
    await client.close();
  });

  it('reports a missing tag as MANIFEST_NOT_FOUND and getManifest as undefined', async () => {
    const client = plainClient();
    const reference = parseReference(`${registry.host}/nothing/here:1`);
    expect(await getManifest(client, reference)).toBeUndefined();
    await expect(pullImage(client, reference, { store: await emptyStore() })).rejects.toMatchObject({
      code: 'MANIFEST_NOT_FOUND',
    });
    await client.close();
  });

  it('falls back to plain HTTP for a local registry without --insecure, as Kaniko does', async () => {
    const client = createRegistryClient({ retries: 0 });
    const reference = parseReference(`${registry.host}/fallback/app:1`);
    await pushImage(client, await createTestImage([64]), [reference]);
    expect(client.baseUrl(registry.host)).toBe(`http://${registry.host}`);
    await client.close();
  });

  it('keeps the access log free of credentials (plain registry sanity check)', async () => {
    expect(await readFile(registry.logFile, 'utf8')).not.toMatch(/authorization/i);
  });
  it('fetches a blob it never downloaded when it must upload it, and fails clearly without a way to', async () => {
    const image = await createTestImage([1024]);
    // The push store lacks the layer, as after a lazy pull whose mount the registry refused.
    const partial = await emptyStore();
    await partial.copyFrom(image.store, image.manifest.config.digest);
    const pushable = { ...image, store: partial };
    const destination = parseReference(`${registry.host}/kiln/lazy:1`);
    await expect(pushImage(plainClient(), pushable, [destination])).rejects.toMatchObject({
      code: 'BLOB_NOT_FOUND',
    });
    expect(await getManifest(plainClient(), destination)).toBeUndefined();

    const fetched: string[] = [];
    const result = await pushImage(plainClient(), pushable, [destination], {
      fetchMissing: async (blob) => {
        fetched.push(blob.digest);
        await partial.copyFrom(image.store, blob.digest);
      },
    });
    expect(fetched).toEqual([image.manifest.layers[0]!.digest]);
    expect(result.pushed[0]!.uploaded).toContain(image.manifest.layers[0]!.digest);
  });
});
