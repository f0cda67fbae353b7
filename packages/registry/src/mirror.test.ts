import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { createReference, parseReference } from '@kiln/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEvent } from './events.ts';
import { mirrorReference, pullImage } from './pullImage.ts';
import { pushImage } from './pushImage.ts';
import { createRegistryClient } from './registryClient.ts';
import { createTestImage, emptyStore } from './testing/testImage.ts';

let mirror: TestRegistry;
let empty: TestRegistry;

beforeAll(async () => {
  [mirror, empty] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain' })]);
});
afterAll(async () => {
  await Promise.all([mirror?.stop(), empty?.stop()]);
});

describe('--registry-mirror', () => {
  it('maps Docker Hub references onto a mirror, with an optional path prefix', () => {
    const alpine = parseReference('alpine:3.20');
    expect(mirrorReference('mirror.example:5000', alpine).toString()).toBe(
      'mirror.example:5000/library/alpine:3.20',
    );
    expect(mirrorReference('https://mirror.example/hub/', alpine).toString()).toBe(
      'mirror.example/hub/library/alpine:3.20',
    );
  });

  it('pulls a Docker Hub image from the first mirror that has it, after one that fails', async () => {
    const image = await createTestImage([1000]);
    const client = createRegistryClient({
      insecureRegistries: [mirror.host, empty.host],
      mirrors: [empty.host, `${mirror.host}/hub`],
      retries: 0,
    });
    await pushImage(client, image, [createReference(mirror.host, 'hub/library/alpine', '3.20')]);
    const events: RegistryEvent[] = [];
    const pulling = createRegistryClient({
      insecureRegistries: [mirror.host, empty.host],
      mirrors: [empty.host, `${mirror.host}/hub`],
      onEvent: (event) => events.push(event),
    });
    const pulled = await pullImage(pulling, parseReference('alpine:3.20'), { store: await emptyStore() });
    expect(pulled.reference.toString()).toMatch(/^index\.docker\.io\/library\/alpine:3\.20@sha256:/);
    expect(events.filter((e) => e.type === 'mirror-failed')).toEqual([
      expect.objectContaining({ mirror: empty.host }),
    ]);
    await client.close();
    await pulling.close();
  });
});
