import { writeFile } from 'node:fs/promises';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBlob } from './blobs.ts';
import { createRegistryClient } from './registryClient.ts';
import { emptyStore } from './testing/testImage.ts';
import { uploadBlob } from './uploadBlob.ts';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
});
afterAll(async () => {
  await registry?.stop();
});

describe('uploadBlob', () => {
  it('a blob changed on disk in the store is BLOB_CORRUPT, dropped, and never lands in the registry', async () => {
    const store = await emptyStore();
    const { digest } = await store.write(Buffer.from('the layer as it was written'));
    await writeFile(store.path(digest), 'the layer as it was changed');
    const target = { registry: registry.host, repository: 'kiln/corrupt' };
    for (const chunkSize of [undefined, 8]) {
      const client = createRegistryClient({
        insecureRegistries: [registry.host],
        retryBaseDelayMs: 10,
        ...(chunkSize === undefined ? {} : { chunkSize }),
      });
      if (!(await store.has(digest))) await writeFile(store.path(digest), 'the layer as it was changed');
      await expect(uploadBlob(client, target, { digest }, store)).rejects.toMatchObject({
        code: 'BLOB_CORRUPT',
      });
      expect(await store.has(digest)).toBe(false);
      expect(await hasBlob(client, target, digest)).toBe(false);
    }
  });
});
