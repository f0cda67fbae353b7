import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { extractImageLayers } from '../base/extractImageLayers.ts';
import { ociLayoutImageSource } from '../base/ociLayoutImageSource.ts';
import { buildImage } from '../buildImage.ts';
import type { BuildInput } from '../buildOptions.ts';
import type { BuildEvent } from '../events.ts';
import { SandboxExecutor } from '../executor/sandboxExecutor.ts';
import { createBusyboxLayout } from './baseLayout.ts';

/**
 * Builds Dockerfiles against the busybox test base (tag `busybox`) in the sandbox executor and
 * unpacks each result into a tree: the harness of the builder's semantic tests.
 */
export interface TestBuilder {
  build(
    name: string,
    dockerfile: string,
    files: Record<string, string>,
    extra?: Partial<BuildInput>,
  ): Promise<{
    tree: string;
    events: BuildEvent[];
    config: Awaited<ReturnType<typeof buildImage>>['image']['config'];
  }>;
  /** The context directory `build(name, …)` writes its files into. */
  contextOf(name: string): string;
  dispose(): Promise<void>;
}

export async function createTestBuilder(): Promise<TestBuilder> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-build-'));
  const layout = join(dir, 'layout');
  await createBusyboxLayout(layout);
  return {
    async build(name, dockerfile, files, extra = {}) {
      const base = join(dir, name);
      const context = join(base, 'context');
      await mkdir(context, { recursive: true });
      for (const [path, content] of Object.entries(files)) {
        await mkdir(join(context, path, '..'), { recursive: true });
        await writeFile(join(context, path), content);
      }
      const store = new BlobStore(join(base, 'store'));
      const executor = new SandboxExecutor({ workDir: join(base, 'work') });
      const events: BuildEvent[] = [];
      try {
        const result = await buildImage(
          {
            contextDir: context,
            dockerfileText: dockerfile,
            dockerfileName: 'Dockerfile',
            buildArgs: new Map(),
            labels: {},
            snapshotStrategy: 'incremental',
            singleSnapshot: false,
            reproducible: false,
            ignorePaths: [],
            compression: 'gzip',
            ...extra,
          },
          {
            executor,
            images: ociLayoutImageSource({ busybox: { dir: layout, tag: 'busybox' } }, store),
            store,
            workDir: join(base, 'work'),
            onEvent: (event) => events.push(event),
          },
        );
        const tree = join(base, 'tree');
        await mkdir(tree);
        const diffIds = result.image.config.rootfs.diff_ids;
        await extractImageLayers(
          result.image.manifest.layers.map((descriptor, index) => ({ descriptor, diffId: diffIds[index]! })),
          tree,
          store,
          [],
        );
        return { tree, events, config: result.image.config };
      } finally {
        await executor.dispose();
      }
    },
    contextOf: (name) => join(dir, name, 'context'),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
