import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '@kiln/image';
import { extractImageLayers } from '../base/extractImageLayers.ts';
import type { ImageSource } from '../base/imageSource.ts';
import { ociLayoutImageSource } from '../base/ociLayoutImageSource.ts';
import { buildImage } from '../buildImage.ts';
import type { BuildEnvironment, BuildInput } from '../buildOptions.ts';
import { directoryLayerCache } from '../directoryLayerCache.ts';
import type { BuildEvent } from '../events.ts';
import type { Executor } from '../executor/executor.ts';
import { SandboxExecutor } from '../executor/sandboxExecutor.ts';
import type { LayerCache } from '../layerCache.ts';
import { createBusyboxLayout } from './baseLayout.ts';

/** How one test build differs from a fresh, isolated one. */
export interface TestBuildOptions {
  /** A blob store and layer cache shared between builds, so a later build can hit the cache. */
  shared?: { storeDir: string; cacheDir: string };
  /** Sets every written context file's mtime (seconds), so tests can show a key ignores it. */
  mtime?: number;
  /** Wraps the shared layer cache (to watch or hold its lookups). */
  wrapCache?: (cache: LayerCache) => LayerCache;
  /** Another executor than the sandbox (for example one that runs a stage at a time). */
  executor?: (workDir: string) => Executor;
  /** Wraps the busybox image source (for example to watch when bases are asked for). */
  images?: (source: ImageSource) => ImageSource;
  /** What the build calls to fetch layer blobs before extracting them (a registry build's RemoteBlobs). */
  fetchBlobs?: BuildEnvironment['fetchBlobs'];
}

/**
 * Builds Dockerfiles against the busybox test base (tag `busybox`) in the sandbox executor and
 * unpacks each result into a tree: the harness of the builder's semantic tests.
 */
export interface TestBuilder {
  /** Context files are written in the order given: tests of order-independence rely on it. */
  build(
    name: string,
    dockerfile: string,
    files: Record<string, string | Uint8Array>,
    extra?: Partial<BuildInput>,
    options?: TestBuildOptions,
  ): Promise<{
    tree: string;
    events: BuildEvent[];
    config: Awaited<ReturnType<typeof buildImage>>['image']['config'];
  }>;
  /** The context directory `build(name, …)` writes its files into. */
  contextOf(name: string): string;
  /** Scratch space of the harness, removed by `dispose`. */
  readonly dir: string;
  dispose(): Promise<void>;
}

export async function createTestBuilder(): Promise<TestBuilder> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-build-'));
  const layout = join(dir, 'layout');
  await createBusyboxLayout(layout);
  return {
    async build(name, dockerfile, files, extra = {}, options = {}) {
      const base = join(dir, name);
      const context = join(base, 'context');
      await mkdir(context, { recursive: true });
      for (const [path, content] of Object.entries(files)) {
        await mkdir(join(context, path, '..'), { recursive: true });
        await writeFile(join(context, path), content);
        if (options.mtime !== undefined) await utimes(join(context, path), options.mtime, options.mtime);
      }
      const { shared } = options;
      const store = new BlobStore(shared?.storeDir ?? join(base, 'store'));
      const workDir = join(base, 'work');
      const executor = options.executor?.(workDir) ?? new SandboxExecutor({ workDir });
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
            images: (options.images ?? ((source) => source))(
              ociLayoutImageSource({ busybox: { dir: layout, tag: 'busybox' } }, store),
            ),
            store,
            workDir,
            onEvent: (event) => events.push(event),
            ...(options.fetchBlobs ? { fetchBlobs: options.fetchBlobs } : {}),
            ...(shared
              ? {
                  cache: (options.wrapCache ?? ((cache) => cache))(
                    directoryLayerCache(shared.cacheDir, store),
                  ),
                }
              : {}),
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
    dir,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
