import type {
  BlobStore,
  Descriptor,
  Digest,
  HistoryEntry,
  ImageConfig,
  ImageManifest,
  Reference,
} from '@kiln/image';
import { MediaType, withTag } from '@kiln/image';
import { ensureBlob, getManifest, hasBlob, putManifest, type RegistryClient } from '@kiln/registry';
import type { CachedStep, LayerCache } from '../layerCache.ts';
import { cacheTag } from './cacheTag.ts';
import type { RemoteBlobs } from './remoteBlobs.ts';

/** The annotation holding the step record, so a lookup is one manifest GET (no config blob fetch). */
export const cacheStepAnnotation = 'dev.kiln.cache.step';
const createdAnnotation = 'org.opencontainers.image.created';

interface StepRecord {
  version: 1;
  key: string;
  diffId?: Digest;
  history: HistoryEntry;
  config: NonNullable<ImageConfig['config']>;
}

export interface RegistryLayerCacheOptions {
  client: RegistryClient;
  /** The cache repository (`--cache-repo`); tags are ignored. */
  repository: Reference;
  /** The build's blob store: layers written by this build are uploaded from it. */
  store: BlobStore;
  /** Where hits' layers are noted, so they are fetched only when a root must be materialised. */
  remote: RemoteBlobs;
  /** Entries older than this are misses (`--cache-ttl`). */
  ttlMs: number;
  /** `--no-push-cache`: read only. */
  push: boolean;
  /** A lookup or write that failed: a warning, never a failed build. */
  onWarning: (message: string) => void;
  now?: () => number;
  /** Prefetched lookups in flight at once (8 by default). */
  prefetchLimit?: number;
}

export interface RegistryLayerCache extends LayerCache {
  /** Waits for the background writes; their failures were reported as warnings. */
  flush(): Promise<void>;
}

/**
 * The layer cache a fleet shares through a registry: each step is an OCI manifest in the cache
 * repository, tagged by its cache key, whose one layer is the step's layer and whose config
 * carries the step's history and container config (also in an annotation). `get` is one manifest
 * GET (plus a HEAD when the layer is not local) and downloads no layer; `put` runs in the
 * background of the build. Anything unreadable, expired or incomplete is a miss.
 */
export function registryLayerCache(options: RegistryLayerCacheOptions): RegistryLayerCache {
  const { client, store, remote } = options;
  const repository = { registry: options.repository.registry, repository: options.repository.repository };
  const now = options.now ?? Date.now;
  const writes = new Set<Promise<void>>();

  /** A lookup's answer, with the layer's source noted only once a step takes the hit. */
  type Found = { step?: CachedStep; layerDigest?: Digest; created?: number };
  type Probe = Found | { error: unknown };
  const prefetched = new Map<string, Promise<Probe>>();
  const prefetchLimit = Math.max(1, options.prefetchLimit ?? 8);
  const waiting: (() => void)[] = [];
  let inFlight = 0;

  function probeSettled(key: string): Promise<Probe> {
    return lookup(key).then(
      (found) => found,
      (error: unknown) => ({ error }),
    );
  }

  /** Starts a prefetch now, or when one of the `prefetchLimit` in flight ends. */
  function queueProbe(key: string): Promise<Probe> {
    return new Promise((resolve) => {
      const start = () => {
        inFlight++;
        void probeSettled(key)
          .then(resolve)
          .finally(() => {
            inFlight--;
            waiting.shift()?.();
          });
      };
      if (inFlight < prefetchLimit) start();
      else waiting.push(start);
    });
  }

  async function lookup(key: string): Promise<Found> {
    const miss = {};
    const fetched = await getManifest(client, withTag(options.repository, cacheTag(key)));
    if (!fetched) return miss;
    const manifest = JSON.parse(fetched.bytes.toString('utf8')) as ImageManifest;
    const text = manifest.annotations?.[cacheStepAnnotation];
    if (!text) return miss;
    const record = JSON.parse(text) as StepRecord;
    if (record.version !== 1 || record.key !== key || !record.history || !record.config) return miss;
    const created = Date.parse(manifest.annotations?.[createdAnnotation] ?? '');
    if (!Number.isFinite(created) || now() - created > options.ttlMs) return miss;
    const descriptor = manifest.layers[0];
    if (manifest.layers.length > 1 || (descriptor === undefined) !== (record.diffId === undefined))
      return miss;
    const step: CachedStep = {
      history: record.history,
      config: record.config,
      manifestDigest: fetched.digest,
    };
    if (descriptor && record.diffId) {
      // A manifest whose layer blob is gone would fail the push later: a miss now instead.
      if (!(await store.has(descriptor.digest)) && !(await hasBlob(client, repository, descriptor.digest)))
        return miss;
      step.layer = { descriptor, diffId: record.diffId };
      return { step, layerDigest: descriptor.digest, created };
    }
    return { step, created };
  }

  /** The layer is usually where the build found it (a base, a cache hit): a mount, not an upload. */
  async function placeBlob(descriptor: Descriptor): Promise<void> {
    const source = remote.sourceOf(descriptor.digest);
    await ensureBlob(client, repository, descriptor, { source: store, mountFrom: source ? [source] : [] });
  }

  async function write(key: string, step: CachedStep): Promise<void> {
    const layer = step.layer;
    const record: StepRecord = {
      version: 1,
      key,
      ...(layer ? { diffId: layer.diffId } : {}),
      history: step.history,
      config: step.config,
    };
    // A real image config, so `skopeo inspect` shows what an entry holds.
    const config = await store.writeJson({
      rootfs: { type: 'layers', diff_ids: layer ? [layer.diffId] : [] },
      history: [step.history],
      config: step.config,
    });
    const configDescriptor: Descriptor = {
      mediaType: MediaType.ociConfig,
      digest: config.digest,
      size: config.size,
    };
    await Promise.all([placeBlob(configDescriptor), ...(layer ? [placeBlob(layer.descriptor)] : [])]);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: layer ? [layer.descriptor] : [],
      annotations: {
        [cacheStepAnnotation]: JSON.stringify(record),
        [createdAnnotation]: new Date(now()).toISOString(),
      },
    };
    await putManifest(
      client,
      withTag(options.repository, cacheTag(key)),
      Buffer.from(JSON.stringify(manifest), 'utf8'),
      MediaType.ociManifest,
    );
  }

  return {
    async get(key) {
      const pending = prefetched.get(key);
      // Taken once: a second get of the key asks the registry again, as without a prefetch.
      prefetched.delete(key);
      const probe = await (pending ?? probeSettled(key));
      if ('error' in probe) {
        options.onWarning(`layer cache lookup failed (treated as a miss): ${messageOf(probe.error)}`);
        return undefined;
      }
      // A prefetched entry may have aged past --cache-ttl while earlier steps ran.
      if (probe.created !== undefined && now() - probe.created > options.ttlMs) return undefined;
      // Where the hit's layer lives is noted only for a hit a step takes, never for a prefetch alone.
      if (probe.layerDigest !== undefined) remote.note(probe.layerDigest, repository);
      return probe.step;
    },
    prefetch(key) {
      if (!prefetched.has(key)) prefetched.set(key, queueProbe(key));
    },
    async put(key, step) {
      if (!options.push) return;
      const running = write(key, step).catch((error: unknown) =>
        options.onWarning(`layer cache write failed (the build goes on): ${messageOf(error)}`),
      );
      writes.add(running);
      void running.finally(() => writes.delete(running));
    },
    async flush() {
      while (writes.size > 0) await Promise.all([...writes]);
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
