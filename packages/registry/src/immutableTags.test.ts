import { type FaultProxy, startFaultProxy, startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { createReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEvent } from './events.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage } from './testing/testImage.ts';

let registry: TestRegistry;
let proxy: FaultProxy;

beforeAll(async () => {
  registry = await startRegistry({ mode: 'plain' });
  // The real registry has no tag immutability: the proxy answers manifest PUTs of `:1` as ECR does.
  proxy = await startFaultProxy({
    target: registry.host,
    faults: [
      {
        method: 'PUT',
        path: '/manifests/1',
        fault: {
          kind: 'status',
          status: 400,
          error: {
            code: 'TAG_INVALID',
            message:
              "The image tag '1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
          },
        },
      },
    ],
  });
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), registry?.stop()]);
});

describe('--push-ignore-immutable-tag-errors', () => {
  it('fails on a refused immutable tag unless told to ignore it, then reports it and pushes the rest', async () => {
    const image = await createTestImage([400]);
    const strict = createRegistryClient({ insecureRegistries: true, retries: 0 });
    await expect(pushImage(strict, image, [createReference(proxy.host, 'app', '1')])).rejects.toMatchObject({
      code: expect.stringMatching(/^REGISTRY_/),
    });
    await strict.close();

    const events: RegistryEvent[] = [];
    const lenient = createRegistryClient({
      insecureRegistries: true,
      retries: 0,
      ignoreImmutableTagErrors: true,
      onEvent: (event) => events.push(event),
    });
    const result = await pushImage(lenient, image, [
      createReference(proxy.host, 'app', '1'),
      createReference(proxy.host, 'app', '2'),
    ]);
    expect(events.filter((e) => e.type === 'immutable-tag')).toEqual([
      { type: 'immutable-tag', reference: `${proxy.host}/app:1`, digest: result.digest },
    ]);
    const tag2 = await fetch(`${registry.url}/v2/app/manifests/2`, {
      headers: { accept: image.manifest.mediaType ?? '' },
    });
    expect(tag2.status).toBe(200);
    await lenient.close();
  });

  it('still fails on other refusals', async () => {
    proxy.setFaults([{ method: 'PUT', path: '/manifests/', fault: { kind: 'status', status: 400 } }]);
    const lenient = createRegistryClient({
      insecureRegistries: true,
      retries: 0,
      ignoreImmutableTagErrors: true,
    });
    await expect(
      pushImage(lenient, await createTestImage([300]), [createReference(proxy.host, 'app', '3')]),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^REGISTRY_/) });
    await lenient.close();
  });
});
