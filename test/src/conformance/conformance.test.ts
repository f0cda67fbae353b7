import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBusyboxRegistry, stopBusyboxRegistry } from '../busyboxRegistry.ts';
import { buildAndCompare, unexplainedLines } from './buildAndCompare.ts';
import { type ContextFile, conformanceCases } from './cases.ts';

let registry: TestRegistry;
let base: PushedImage;
let work: string;

beforeAll(async () => {
  ({ registry, base, work } = await startBusyboxRegistry('kiln-e2e-conformance-'));
});
afterAll(() => stopBusyboxRegistry({ registry, work }));

async function writeFiles(dir: string, files: Record<string, ContextFile>): Promise<void> {
  // Plain files first, so hard links find their targets.
  const entries = Object.entries(files).sort(
    ([, a], [, b]) => Number(typeof a !== 'string') - Number(typeof b !== 'string'),
  );
  for (const [path, file] of entries) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    if (typeof file === 'string') await writeFile(join(dir, path), file);
    else if ('symlink' in file) await symlink(file.symlink, join(dir, path));
    else await link(join(dir, file.hardlink), join(dir, path));
  }
}

// KILN_CONFORMANCE_CASE=name runs one case while working on it.
const only = process.env.KILN_CONFORMANCE_CASE;

describe('Kiln builds what Buildah builds, but for the named BuildKit/Buildah differences', () => {
  for (const testCase of conformanceCases) {
    it.skipIf(only !== undefined && only !== testCase.name)(testCase.name, { timeout: 300_000 }, async () => {
      const caseDir = join(work, testCase.name);
      const context = join(caseDir, 'context');
      await mkdir(context, { recursive: true });
      await writeFiles(context, testCase.files);
      // The Dockerfile lives beside the context, so it is not itself part of what COPY . sees.
      const dockerfile = join(caseDir, 'Dockerfile');
      await writeFile(dockerfile, testCase.dockerfile);
      await writeFiles(caseDir, testCase.besideDockerfile ?? {});
      let buildahDockerfile: string | undefined;
      if (testCase.buildahEquivalent) {
        buildahDockerfile = join(caseDir, 'Dockerfile.buildah');
        await writeFile(buildahDockerfile, testCase.buildahEquivalent.dockerfile);
      }
      const comparison = await buildAndCompare({
        registry,
        base,
        work: caseDir,
        context,
        dockerfile,
        ...(buildahDockerfile ? { buildahDockerfile } : {}),
        kilnArgs: ['--executor', 'sandbox'],
        kilnRef: `${registry.host}/conformance/${testCase.name}:kiln`,
        buildahRef: `${registry.host}/conformance/${testCase.name}:buildah`,
        exceptions: testCase.exceptions,
      });
      // An exception a case lists but no longer needs is stale: drop it (and its design note).
      const used = new Set(comparison.explained.map((entry) => entry.exception));
      expect(
        testCase.exceptions.map((exception) => exception.name).filter((name) => !used.has(name)),
      ).toEqual([]);
      expect(unexplainedLines(comparison)).toEqual([]);
    });
  }
});
