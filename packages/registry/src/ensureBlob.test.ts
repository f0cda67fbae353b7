import { readFile } from 'node:fs/promises';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { MediaType } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBlob, placeBlobAhead } from './ensureBlob.ts';
import type { RegistryEvent } from './events.ts';
import { createRegistryClient } from './registryClient.ts';
import { emptyStore } from './testing/testImage.ts';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
});
afterAll(async () => {
  await registry?.stop();
});

describe('ensureBlob', () => {
  it('uploads once, then finds the blob there, mounts it elsewhere, and never mounts across registries', async () => {
    const events: RegistryEvent[] = [];
    const client = createRegistryClient({
      insecureRegistries: [registry.host],
      onEvent: (event) => events.push(event),
    });
    const store = await emptyStore();
    const written = await store.write(Buffer.from('a layer to place'));
    const blob = { mediaType: MediaType.ociLayer, digest: written.digest, size: written.size };
    const target = (repository: string) => ({ registry: registry.host, repository });
    const elsewhere = { registry: 'other.example', repository: 'kiln/source' };

    // Another registry's repository is passed over: the bytes are uploaded.
    const first = await ensureBlob(client, target('kiln/source'), blob, {
      source: store,
      mountFrom: [elsewhere],
    });
    expect(first).toBe('uploaded');
    expect(await ensureBlob(client, target('kiln/source'), blob, { source: store })).toBe('exists');
    expect(
      await ensureBlob(client, target('kiln/copy'), blob, {
        source: store,
        mountFrom: [target('kiln/copy'), target('kiln/source')],
      }),
    ).toBe('mounted');
    expect(events.map((event) => event.type).filter((type) => type !== 'blob-progress')).toEqual([
      'blob-done',
      'blob-skipped',
      'blob-mounted',
    ]);
    await client.close();
  });

  it('fetches a blob the store lacks before uploading it', async () => {
    const client = createRegistryClient({ insecureRegistries: [registry.host] });
    const source = await emptyStore();
    const bytes = Buffer.from('a lazily pulled layer');
    const other = await emptyStore();
    const written = await other.write(bytes);
    const blob = { mediaType: MediaType.ociLayer, digest: written.digest, size: written.size };
    const fetched: string[] = [];
    const placed = await ensureBlob(client, { registry: registry.host, repository: 'kiln/lazy' }, blob, {
      source,
      fetchMissing: async (missing) => {
        fetched.push(missing.digest);
        await source.write(bytes);
      },
    });
    expect(placed).toBe('uploaded');
    expect(fetched).toEqual([blob.digest]);
    await client.close();
  });

  it('uploads a blob whose mount was declined into the session the mount opened', async () => {
    const client = createRegistryClient({ insecureRegistries: [registry.host] });
    const store = await emptyStore();
    const written = await store.write(Buffer.from('a new layer no repository holds'));
    const blob = { mediaType: MediaType.ociLayer, digest: written.digest, size: written.size };
    const target = (repository: string) => ({ registry: registry.host, repository });
    const placed = await ensureBlob(client, target('kiln/reuse'), blob, {
      source: store,
      mountFrom: [target('kiln/reuse-base-a'), target('kiln/reuse-base-b')],
    });
    expect(placed).toBe('uploaded');
    expect(await ensureBlob(client, target('kiln/reuse'), blob, { source: store })).toBe('exists');
    await client.close();
    const log = await readFile(registry.logFile, 'utf8');
    const count = (pattern: RegExp) => (log.match(pattern) ?? []).length;
    // Two declined mounts (the first session cancelled, the second uploaded to), no POST of its own.
    expect(count(/"POST \/v2\/kiln\/reuse\/blobs\/uploads\/\?mount=/g)).toBe(2);
    expect(count(/"POST \/v2\/kiln\/reuse\/blobs\/uploads\/ /g)).toBe(0);
    expect(count(/"DELETE \/v2\/kiln\/reuse\/blobs\/uploads\//g)).toBe(1);
  });

  it('awaits a placement started ahead rather than repeating it, and repeats one that failed', async () => {
    const client = createRegistryClient({ insecureRegistries: [registry.host] });
    const store = await emptyStore();
    const written = await store.write(Buffer.from('a layer pushed while the build runs'));
    const blob = { mediaType: MediaType.ociLayer, digest: written.digest, size: written.size };
    const target = { registry: registry.host, repository: 'kiln/ahead' };
    const ahead = placeBlobAhead(client, target, blob, { source: store });
    // The push's own call, while the upload is still in flight: the same outcome, no new requests.
    expect(await ensureBlob(client, target, blob, { source: store })).toBe('uploaded');
    await ahead;

    // Started ahead from a store that lacks the bytes: it fails quietly, the push's call fetches them.
    const missing = {
      mediaType: MediaType.ociLayer,
      ...(await (await emptyStore()).write(Buffer.from('late'))),
    };
    await expect(placeBlobAhead(client, target, missing, { source: store })).resolves.toBeUndefined();
    const placed = await ensureBlob(client, target, missing, {
      source: store,
      fetchMissing: async () => {
        await store.write(Buffer.from('late'));
      },
    });
    expect(placed).toBe('uploaded');
    await client.close();
    const log = await readFile(registry.logFile, 'utf8');
    const count = (pattern: RegExp) => (log.match(pattern) ?? []).length;
    expect(count(new RegExp(`"HEAD /v2/kiln/ahead/blobs/${blob.digest}`, 'g'))).toBe(1);
    expect(
      count(
        new RegExp(`"PUT /v2/kiln/ahead/blobs/uploads/[^"]*digest=${blob.digest.replace(':', '%3A')}`, 'g'),
      ),
    ).toBe(1);
  });
});
