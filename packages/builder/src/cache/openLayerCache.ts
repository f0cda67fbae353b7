import { join, resolve } from 'node:path';
import { type BlobStore, createReference, parseReference, type Reference } from '@kiln/image';
import type { RegistryClient } from '@kiln/registry';
import type { CacheRequest } from '../buildRequest.ts';
import { directoryLayerCache } from '../directoryLayerCache.ts';
import type { LayerCache } from '../layerCache.ts';
import { defaultCacheTtlMs } from './cacheTtl.ts';
import { registryLayerCache } from './registryLayerCache.ts';
import type { RemoteBlobs } from './remoteBlobs.ts';

export interface OpenedLayerCache {
  /** Undefined when the cache is off or has nowhere to live. */
  cache?: LayerCache;
  /** The cache repository, when the cache is one: a push may mount layers from it. */
  repository?: Reference;
  /** Waits for the cache writes still running (a no-op for the directory cache). */
  flush(): Promise<void>;
}

export interface LayerCacheDeps {
  client: RegistryClient;
  store: BlobStore;
  remote: RemoteBlobs;
  /** The build's destinations: the first one's `<repository>/cache` is the default repository. */
  destinations: Reference[];
  onWarning(message: string): void;
}

/**
 * The layer cache `--cache` asks for: a registry repository (`--cache-repo`, else Kaniko's
 * `<first destination>/cache`), else a directory under `--cache-dir`, else none (with a warning).
 */
export function openLayerCache(request: CacheRequest, deps: LayerCacheDeps): OpenedLayerCache {
  const none = { flush: async () => {} };
  if (!request.enabled) return none;
  const first = deps.destinations[0];
  const repository =
    request.repository !== undefined
      ? parseReference(request.repository)
      : first && createReference(first.registry, `${first.repository}/cache`);
  if (repository) {
    const cache = registryLayerCache({
      client: deps.client,
      repository,
      store: deps.store,
      remote: deps.remote,
      ttlMs: request.ttlMs ?? defaultCacheTtlMs,
      push: request.push,
      onWarning: deps.onWarning,
    });
    return { cache, repository, flush: () => cache.flush() };
  }
  if (request.dir)
    return { ...none, cache: directoryLayerCache(join(resolve(request.dir), 'steps'), deps.store) };
  deps.onWarning(
    '--cache without --destination, --cache-repo or --cache-dir: nowhere to cache; building without',
  );
  return none;
}
