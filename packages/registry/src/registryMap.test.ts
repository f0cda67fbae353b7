import { readFile } from 'node:fs/promises';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { createReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEvent } from './events.ts';
import { pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient, type RegistryClientOptions } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

let origin: TestRegistry;
let mirror: TestRegistry;
let empty: TestRegistry;

beforeAll(async () => {
  [origin, mirror, empty] = await Promise.all([
    startRegistry({ mode: 'plain' }),
    startRegistry({ mode: 'plain' }),
    startRegistry({ mode: 'plain' }),
  ]);
  const image = await createTestImage([1000]);
  const seeding = createRegistryClient({ insecureRegistries: true, retries: 0 });
  await pushImage(seeding, image, [
    createReference(origin.host, 'team/app', '1'),
    createReference(mirror.host, 'cache/team/app', '1'),
  ]);
  await pushImage(seeding, await createTestImage([500]), [createReference(origin.host, 'team/other', '1')]);
  await seeding.close();
});
afterAll(async () => {
  await Promise.all([origin?.stop(), mirror?.stop(), empty?.stop()]);
});

function client(options: RegistryClientOptions, events: RegistryEvent[] = []) {
  return createRegistryClient({
    insecureRegistries: true,
    retries: 0,
    onEvent: (event) => events.push(event),
    ...options,
  });
}

const manifestRequests = async (registry: TestRegistry) =>
  ((await readFile(registry.logFile, 'utf8')).match(/GET \/v2\/[^ ]*\/manifests\//g) ?? []).length;

describe('--registry-map', () => {
  it('pulls any registry’s image from its mirrors in order, with a path prefix, blobs included', async () => {
    const events: RegistryEvent[] = [];
    const pulling = client({ registryMap: { [origin.host]: [empty.host, `${mirror.host}/cache`] } }, events);
    const before = await manifestRequests(origin);
    const pulled = await pullImage(pulling, createReference(origin.host, 'team/app', '1'), {
      store: await emptyStore(),
    });
    expect(pulled.reference.registry).toBe(origin.host);
    expect(pulled.source.toString()).toBe(`${mirror.host}/cache/team/app:1@${pulled.manifestDigest}`);
    expect(events.filter((e) => e.type === 'mirror-failed')).toEqual([
      expect.objectContaining({ mirror: empty.host }),
    ]);
    expect(await manifestRequests(origin)).toBe(before);
    await pulling.close();
  });

  it('falls back to the registry itself when no mirror has the image', async () => {
    const pulling = client({ registryMap: { [origin.host]: [empty.host] } });
    const pulled = await pullImage(pulling, createReference(origin.host, 'team/other', '1'), {
      store: await emptyStore(),
    });
    expect(pulled.source.registry).toBe(origin.host);
    await pulling.close();
  });

  it('--skip-default-registry-fallback: fails without asking the registry itself', async () => {
    const pulling = client({
      registryMap: { [origin.host]: [empty.host] },
      skipDefaultRegistryFallback: true,
    });
    const before = await manifestRequests(origin);
    await expect(
      pullImage(pulling, createReference(origin.host, 'team/other', '1'), { store: await emptyStore() }),
    ).rejects.toMatchObject({ code: 'MIRRORS_EXHAUSTED' });
    expect(await manifestRequests(origin)).toBe(before);
    await pulling.close();
  });

  it('--image-download-retry: tries the whole pull again before giving up', async () => {
    const events: RegistryEvent[] = [];
    const pulling = client({ imageDownloadRetries: 1 }, events);
    await expect(
      pullImage(pulling, createReference(origin.host, 'team/missing', '1'), { store: await emptyStore() }),
    ).rejects.toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
    expect(events.filter((e) => e.type === 'retry')).toEqual([
      expect.objectContaining({ registry: origin.host, attempt: 1 }),
    ]);
    await pulling.close();
  });
});
