import {
  type BlobStore,
  type Descriptor,
  type Digest,
  type ImageManifest,
  MediaType,
  type Reference,
  sha256Digest,
} from '@kiln/image';
import type { Repository } from './blobs.ts';
import { ensureBlob } from './ensureBlob.ts';
import { putManifest } from './manifests.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import type { RegistryClient } from './registryClient.ts';

export interface PushableImage {
  manifest: ImageManifest;
  /** The manifest's exact bytes when already serialised (kept as is so the digest does not change). */
  manifestBytes?: Uint8Array;
  manifestMediaType?: string;
  /** Holds every layer (and the config, unless `config` is given). */
  store: BlobStore;
  /** The config's exact bytes, when the caller holds them rather than the store; written to the store first. */
  configBytes?: Uint8Array;
}

export interface PushImageOptions {
  /** Repositories (same registry) that may already hold the blobs, e.g. the base image: mounted from. */
  mountFrom?: Reference[];
  /**
   * Puts a blob into the store when it must be uploaded but was never downloaded (a lazily pulled
   * base layer or cache hit whose mount the registry refused). Without it such a push fails.
   */
  fetchMissing?: (blob: Descriptor) => Promise<void>;
  /** Where the build found a blob (a base's or cache hit's repository): tried first when mounting it. */
  sourceOf?: (digest: Digest) => Repository | undefined;
}

/**
 * Blobs placed at once per registry. Most of a push is one short request per blob (a HEAD, a
 * mount), so more than the client's download concurrency; 8, as the layer cache's lookups.
 */
const placeConcurrency = 8;

/** The refusals Kaniko recognises as tag immutability (Artifact Registry's, then ECR's). */
const immutableTagMessages = [
  'The repository has enabled tag immutability',
  'cannot be overwritten because the repository is immutable',
];

export interface PushedDestination {
  reference: string;
  digest: Digest;
  uploaded: Digest[];
  mounted: Digest[];
  skipped: Digest[];
}

export interface PushImageResult {
  digest: Digest;
  pushed: PushedDestination[];
}

/**
 * Pushes an image to every destination. Per registry, each blob is uploaded once (HEAD first,
 * skipped when present; mounted across repositories when possible), layers in parallel; the
 * manifests are put only once every blob of every destination is confirmed.
 */
export async function pushImage(
  client: RegistryClient,
  image: PushableImage,
  destinations: Reference[],
  options: PushImageOptions = {},
): Promise<PushImageResult> {
  const manifestBytes = image.manifestBytes ?? Buffer.from(JSON.stringify(image.manifest), 'utf8');
  const mediaType = image.manifestMediaType ?? image.manifest.mediaType ?? MediaType.ociManifest;
  const digest = sha256Digest(manifestBytes);
  const blobs = uniqueBlobs([image.manifest.config, ...image.manifest.layers]);
  const configDigest = image.manifest.config.digest;
  if (image.configBytes !== undefined && !(await image.store.has(image.manifest.config.digest))) {
    // The store refuses bytes that do not hash to the manifest's config digest (DIGEST_MISMATCH).
    await image.store.write(image.configBytes, { expectedDigest: image.manifest.config.digest });
  }

  const byRegistry = new Map<string, string[]>();
  for (const destination of destinations) {
    const repositories = byRegistry.get(destination.registry) ?? [];
    if (!repositories.includes(destination.repository)) repositories.push(destination.repository);
    byRegistry.set(destination.registry, repositories);
  }
  const outcomes = new Map<string, PushedDestination>();
  const outcome = (registry: string, repository: string): PushedDestination => {
    const key = `${registry}/${repository}`;
    let entry = outcomes.get(key);
    if (entry === undefined) {
      entry = { reference: key, digest, uploaded: [], mounted: [], skipped: [] };
      outcomes.set(key, entry);
    }
    return entry;
  };

  await Promise.all(
    [...byRegistry].map(async ([registry, repositories]) => {
      const [primary, ...others] = repositories as [string, ...string[]];
      // The other destinations' repositories do not hold the blob yet: no use mounting from them.
      const mountFrom = (options.mountFrom ?? []).filter((r) => !repositories.includes(r.repository));
      const place = async (repository: string, blob: Descriptor, from: Repository[]) => {
        // The repository the blob came from first: a mount that is declined costs two requests.
        const own = options.sourceOf?.(blob.digest);
        const ordered =
          own && own.registry === registry && from.some((r) => r.repository === own.repository)
            ? [own, ...from.filter((r) => r.repository !== own.repository)]
            : from;
        const placed = await ensureBlob(client, { registry, repository }, blob, {
          source: image.store,
          mountFrom: ordered,
          ...(options.fetchMissing ? { fetchMissing: options.fetchMissing } : {}),
        });
        const entry = outcome(registry, repository);
        const list =
          placed === 'exists' ? entry.skipped : placed === 'mounted' ? entry.mounted : entry.uploaded;
        list.push(blob.digest);
      };
      // The config goes with the layers: all of them are in flight together.
      await mapConcurrent(blobs, Math.max(client.concurrency, placeConcurrency), async (blob) => {
        // The image's own config is in no other repository: asking them to mount it costs two
        // declined requests before the upload (a HEAD still finds it where this image was pushed).
        await place(primary, blob, blob.digest === configDigest ? [] : mountFrom);
        // Later repositories of the same registry mount from the first, which has it by now.
        for (const repository of others) await place(repository, blob, [{ registry, repository: primary }]);
      });
    }),
  );

  // Every blob is confirmed: only now do the tags point at the manifest.
  await mapConcurrent(destinations, client.concurrency, async (destination) => {
    try {
      await putManifest(client, destination, manifestBytes, mediaType);
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (!client.ignoreImmutableTagErrors || !immutableTagMessages.some((m) => message.includes(m)))
        throw error;
      client.emit({ type: 'immutable-tag', reference: destination.toString(), digest });
    }
  });
  return {
    digest,
    pushed: destinations.map((d) => ({ ...outcome(d.registry, d.repository), reference: d.toString() })),
  };
}

function uniqueBlobs(descriptors: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descriptors.filter((d) => !seen.has(d.digest) && seen.add(d.digest) !== undefined);
}
