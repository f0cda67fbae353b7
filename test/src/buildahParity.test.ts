import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from './busyboxRegistry.ts';
import { buildahBuildAndPush } from './conformance/buildah.ts';
import { compareImages } from './conformance/compareImages.ts';
import { exceptions } from './conformance/exceptions.ts';
import { contextsDir, runKiln } from './kilnProcess.ts';

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
    const kilnRef = `${registry.host}/parity/kiln:latest`;
    const buildahRef = `${registry.host}/parity/buildah:latest`;
    const kiln = await runKiln([
      'build',
      '--context',
      context,
      '--build-arg',
      `BASE=${base.reference}`,
      '--destination',
      kilnRef,
      '--insecure-registry',
      registry.host,
    ]);
    expect(kiln.code, kiln.stderr).toBe(0);
    await buildahBuildAndPush({
      work,
      context,
      dockerfile: join(context, 'Dockerfile'),
      buildArgs: { BASE: base.reference },
      destination: buildahRef,
    });
    const comparison = await compareImages(kilnRef, buildahRef, join(work, 'trees'), [
      exceptions.buildahRunMountPoints,
    ]);
    expect(comparison.unexplained.map((d) => `${d.where}: kiln ${d.kiln} | buildah ${d.buildah}`)).toEqual(
      [],
    );
  });
});
