import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { buildAndCompare, unexplainedLines } from './conformance/buildAndCompare.ts';
import { exceptions } from './conformance/exceptions.ts';
import { contextsDir } from './kilnProcess.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-buildah-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

// Every instruction over two stages, from a context kept in the repository (with the Dockerfile
// inside it); test/src/conformance holds the smaller cases, one semantic question each.
describe('kiln and buildah build the same image from the same Dockerfile', () => {
  it('same tree (content, modes, owners, links) and same config fields', { timeout: 300_000 }, async () => {
    const context = join(contextsDir, 'everything');
    const comparison = await buildAndCompare({
      registry,
      base,
      work,
      context,
      kilnRef: `${registry.host}/parity/kiln:latest`,
      buildahRef: `${registry.host}/parity/buildah:latest`,
      exceptions: [exceptions.buildahRunMountPoints],
    });
    expect(unexplainedLines(comparison)).toEqual([]);
  });
});
