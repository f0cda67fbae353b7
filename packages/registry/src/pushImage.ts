import {
  type BlobStore,
  type Descriptor,
  type Digest,
  type ImageManifest,
  MediaType,
  type Reference,
  sha256Digest,
} from '@kiln/image';
import { hasBlob, mountBlob, type Repository } from './blobs.ts';
import { putManifest } from './manifests.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import type { RegistryClient } from './registryClient.ts';
import { uploadBlob } from './uploadBlob.ts';

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
}

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
      const mountSources = (options.mountFrom ?? [])
        .filter((r) => r.registry === registry && !repositories.includes(r.repository))
        .map((r) => r.repository);
      await mapConcurrent(blobs, client.concurrency, async (blob) => {
        await placeBlob(
          client,
          { registry, repository: primary },
          blob,
          image.store,
          mountSources,
          outcome(registry, primary),
          options.fetchMissing,
        );
        for (const repository of others) {
          await placeBlob(
            client,
            { registry, repository },
            blob,
            image.store,
            [primary],
            outcome(registry, repository),
            options.fetchMissing,
          );
        }
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

async function placeBlob(
  client: RegistryClient,
  target: Repository,
  blob: Descriptor,
  store: BlobStore,
  mountSources: string[],
  outcome: PushedDestination,
  fetchMissing: PushImageOptions['fetchMissing'],
): Promise<void> {
  if (await hasBlob(client, target, blob.digest, 'pull,push')) {
    client.emit({ type: 'blob-skipped', ...target, digest: blob.digest, reason: 'exists' });
    outcome.skipped.push(blob.digest);
    return;
  }
  for (const from of mountSources) {
    if (await mountBlob(client, target, blob.digest, from)) {
      outcome.mounted.push(blob.digest);
      return;
    }
  }
  if (fetchMissing && !(await store.has(blob.digest))) await fetchMissing(blob);
  await uploadBlob(client, target, blob, store);
  outcome.uploaded.push(blob.digest);
}

function uniqueBlobs(descriptors: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return descriptors.filter((d) => !seen.has(d.digest) && seen.add(d.digest) !== undefined);
}
