import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '@kiln/image';
import type { CachedStep, LayerCache } from './layerCache.ts';

/**
 * A layer cache on one machine: step records as JSON files under `dir`, layer blobs in the
 * build's blob store (which must then outlive the build, e.g. `--cache-dir`). The registry-backed
 * cache shared by a fleet implements the same interface.
 */
export function directoryLayerCache(dir: string, store: BlobStore): LayerCache {
  const file = (key: string) => join(dir, `${key.replace(/[^a-zA-Z0-9]/g, '_')}.json`);
  return {
    async get(key) {
      let step: CachedStep;
      try {
        step = JSON.parse(await readFile(file(key), 'utf8')) as CachedStep;
      } catch {
        return undefined;
      }
      // A record whose layer blob is gone is a miss, not an error.
      if (step.layer && !(await store.has(step.layer.descriptor.digest))) return undefined;
      return step;
    },
    async put(key, step) {
      await mkdir(dir, { recursive: true });
      const temp = `${file(key)}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(step));
      await rename(temp, file(key));
    },
  };
}
