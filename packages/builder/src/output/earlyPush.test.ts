import { BlobStore, type Descriptor, parseReference } from '@kiln/image';
import { createRegistryClient, type Repository } from '@kiln/registry';
import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../events.ts';
import { startEarlyPush } from './earlyPush.ts';

const layer = (stage: string, digest: string): BuildEvent => ({
  type: 'layer-written',
  stage,
  step: 1,
  digest: `sha256:${digest.repeat(64)}` as Descriptor['digest'],
  diffId: `sha256:${'f'.repeat(64)}` as Descriptor['digest'],
  size: 10,
  ms: 1,
});

describe('startEarlyPush', () => {
  it("uploads only the target stage's layers, once per registry, to its first destination", async () => {
    const placed: string[] = [];
    const early = startEarlyPush(
      createRegistryClient(),
      new BlobStore('/nonexistent'),
      ['r1.example/app:1', 'r1.example/other:1', 'r2.example/app:1'].map((text) => parseReference(text)),
      async (target: Repository, blob: Descriptor) => {
        placed.push(`${target.registry}/${target.repository}@${blob.digest.slice(7, 8)}`);
      },
    );
    early.onEvent(layer('builder', 'a'));
    early.onEvent({
      type: 'build-started',
      stages: ['builder', 'final'],
      target: 'final',
      executor: 'container',
    });
    early.onEvent(layer('builder', 'b'));
    early.onEvent(layer('final', 'c'));
    await early.settle();
    expect(placed).toEqual(['r1.example/app@c', 'r2.example/app@c']);
  });

  it('settles without throwing when an upload fails: the push repeats it and reports the error', async () => {
    const client = createRegistryClient({ insecureRegistries: ['127.0.0.1:9'], retries: 0 });
    const early = startEarlyPush(client, new BlobStore('/nonexistent'), [
      parseReference('127.0.0.1:9/app:1'),
    ]);
    early.onEvent({ type: 'build-started', stages: ['0'], target: '0', executor: 'container' });
    early.onEvent(layer('0', 'd'));
    await expect(early.settle()).resolves.toBeUndefined();
    await client.close();
  });
});
