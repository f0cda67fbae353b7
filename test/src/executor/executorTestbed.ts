import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PodmanEnvironment, preparePodman } from '@kiln/fixtures/podman';
import { startRegistry, type TestRegistry } from '@kiln/fixtures/registry';
import { contextsDir, repoRoot } from '../kilnProcess.ts';
import { type ExecutorImageRefs, provideExecutorImages } from './executorImageCache.ts';

export interface PodmanTestbed {
  /** A fresh dir under .work (podman state must stay in the checkout's work dir). */
  work: string;
  podman: PodmanEnvironment;
  stop(): Promise<void>;
}

export interface ExecutorTestbed extends PodmanTestbed {
  /** Plain-HTTP registry the executor image is pulled from, as a cluster pulls it from its registry. */
  imageRegistry: TestRegistry;
  executor: ExecutorImageRefs;
}

/** A work dir under .work and podman set up in it as a default pod (see @kiln/fixtures/podman). */
export async function startPodmanTestbed(name: string): Promise<PodmanTestbed> {
  await mkdir(join(repoRoot, '.work'), { recursive: true });
  const work = await mkdtemp(join(repoRoot, '.work', `e2e-${name}-`));
  const podman = await preparePodman(join(work, 'podman'));
  return {
    work,
    podman,
    async stop() {
      await podman.run(['system', 'reset', '--force']);
      // podman can still append to its event log just after the reset returns (seen once: ENOTEMPTY).
      await rm(work, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** One per test file: a work dir, podman set up as a default pod, the executor image in a registry. */
export async function startExecutorTestbed(name: string): Promise<ExecutorTestbed> {
  const testbed = await startPodmanTestbed(name);
  const imageRegistry = await startRegistry({ mode: 'plain' });
  const executor = await provideExecutorImages(imageRegistry);
  return {
    ...testbed,
    imageRegistry,
    executor,
    async stop() {
      await imageRegistry.stop();
      await testbed.stop();
    },
  };
}

/**
 * Replaces `__NAME__` in `text` (a plain YAML scalar, so templates stay valid YAML for the formatter);
 * a name without a value is an error, so no template goes out half-filled.
 */
export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/__([A-Z][A-Z0-9_]*?)__/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template value __${name}__ missing`);
    return value;
  });
}

/** A file of test/src/contexts with its `__NAME__` filled in. */
export async function readContextTemplate(path: string, values: Record<string, string>): Promise<string> {
  return fillTemplate(await readFile(join(contextsDir, path), 'utf8'), values);
}

/** Writes a context file with its `__NAME__` filled in to `destination`. */
export async function writeContextTemplate(
  path: string,
  destination: string,
  values: Record<string, string>,
): Promise<void> {
  await writeFile(destination, await readContextTemplate(path, values));
}

/**
 * A workspace dir under the testbed holding `contexts/<name>/Dockerfile`, its `__REGISTRY__` the
 * testbed's image registry (where the busybox base is): what a pipeline mounts at /workspace.
 */
export async function writeWorkspace(testbed: ExecutorTestbed, name: string): Promise<string> {
  const dir = join(testbed.work, name);
  await mkdir(dir, { recursive: true });
  await writeContextTemplate(`${name}/Dockerfile`, join(dir, 'Dockerfile'), {
    REGISTRY: testbed.imageRegistry.host,
  });
  return dir;
}
