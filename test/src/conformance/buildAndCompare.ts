import { join } from 'node:path';
import type { PushedImage } from '@kiln/fixtures/images';
import type { TestRegistry } from '@kiln/fixtures/registry';
import { expect } from 'vitest';
import { runKiln } from '../kilnProcess.ts';
import { buildahBuildAndPush } from './buildah.ts';
import { type Comparison, compareImages } from './compareImages.ts';
import type { NamedException } from './exceptions.ts';

export interface BuildAndCompare {
  registry: TestRegistry;
  /** The busybox base, passed to both as build arg `BASE`. */
  base: PushedImage;
  /** Scratch dir of this comparison: buildah's state and the unpacked trees. */
  work: string;
  context: string;
  /** Default: the context's `Dockerfile`, found by each builder itself. */
  dockerfile?: string;
  /** What Buildah builds instead, where it needs another spelling of the same thing. */
  buildahDockerfile?: string;
  /** More `kiln build` flags. */
  kilnArgs?: string[];
  kilnRef: string;
  buildahRef: string;
  exceptions: readonly NamedException[];
}

/** Builds one Dockerfile with Kiln and with Buildah, pushes both and compares the two images. */
export async function buildAndCompare(options: BuildAndCompare): Promise<Comparison> {
  const { registry, base } = options;
  const kiln = await runKiln([
    'build',
    ...(options.kilnArgs ?? []),
    '--context',
    options.context,
    ...(options.dockerfile ? ['--dockerfile', options.dockerfile] : []),
    '--build-arg',
    `BASE=${base.reference}`,
    '--destination',
    options.kilnRef,
    '--insecure-registry',
    registry.host,
  ]);
  expect(kiln.code, kiln.stderr).toBe(0);
  await buildahBuildAndPush({
    work: options.work,
    context: options.context,
    dockerfile: options.buildahDockerfile ?? options.dockerfile ?? join(options.context, 'Dockerfile'),
    buildArgs: { BASE: base.reference },
    destination: options.buildahRef,
  });
  return compareImages(options.kilnRef, options.buildahRef, join(options.work, 'trees'), options.exceptions);
}

/** Differences no exception explains, one line each: a test expects none. */
export function unexplainedLines(comparison: Comparison): string[] {
  return comparison.unexplained.map((d) => `${d.where}: kiln ${d.kiln} | buildah ${d.buildah}`);
}
