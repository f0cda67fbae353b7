import { KilnError } from '@kiln/errors';
import {
  type BlobStore,
  createReference,
  type Descriptor,
  type Digest,
  formatPlatform,
  type ImageIndex,
  indexMediaTypeFor,
  isIndexMediaType,
  MediaType,
  parseImageConfig,
  parseIndex,
  parseManifest,
  platformKey,
  platformOfConfig,
  type Reference,
  sha256Digest,
} from '@kiln/image';
import { fetchBlob, type Repository } from './blobs.ts';
import { ensureBlob } from './ensureBlob.ts';
import { getManifest, putManifest } from './manifests.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import type { RegistryClient } from './registryClient.ts';

/** One manifest of the index to be, and the source it came from (its manifest lives in that repository). */
export interface IndexEntry {
  descriptor: Descriptor;
  source: Reference;
}

export interface PlannedIndex {
  index: ImageIndex;
  /** The exact bytes pushed (the digest is of these). */
  bytes: Buffer;
  digest: Digest;
  mediaType: string;
  /** The entries kept, in index order (duplicates by digest dropped). */
  entries: IndexEntry[];
}

export interface CreateIndexOptions {
  /** Holds configs read and blobs copied between registries. */
  store: BlobStore;
  /** Resolve the sources and plan the index, but copy and push nothing. */
  dryRun?: boolean;
}

export interface CreatedIndex extends PlannedIndex {
  /** The destinations the index was pushed to (none on a dry run). */
  pushed: Reference[];
}

// BuildKit's attestation manifests carry platform unknown/unknown, one per image: never a clash.
const isAttestation = (d: Descriptor) =>
  d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';

/**
 * The index of these entries, as `docker buildx imagetools create` joins them: one entry per
 * digest (the first kept), each platform at most once, an OCI index for OCI manifests and a Docker
 * manifest list for Docker v2 ones. Two images for one platform, or OCI mixed with Docker, are
 * refused (exit 2): the first would leave the runtime's choice to entry order, the second would
 * need the manifests converted, which changes their digests.
 */
export function planIndex(entries: IndexEntry[]): PlannedIndex {
  const kept: IndexEntry[] = [];
  const seen = new Set<Digest>();
  const byPlatform = new Map<string, IndexEntry>();
  for (const entry of entries) {
    const { descriptor } = entry;
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    if (descriptor.platform !== undefined && !isAttestation(descriptor)) {
      const key = platformKey(descriptor.platform);
      const other = byPlatform.get(key);
      if (other !== undefined) {
        throw new KilnError(
          'DUPLICATE_PLATFORM',
          `${formatPlatform(descriptor.platform)} twice: ${other.source} (${other.descriptor.digest}) and ${entry.source} (${descriptor.digest})`,
          { hint: 'name one image per platform; drop one of the two sources', exitCode: 2 },
        );
      }
      byPlatform.set(key, entry);
    }
    kept.push(entry);
  }
  const mediaType = indexMediaTypeFor(kept.map((e) => e.descriptor.mediaType));
  if (mediaType === undefined) {
    const named = (docker: boolean) =>
      kept
        .filter((e) => (e.descriptor.mediaType === MediaType.dockerManifest) === docker)
        .map((e) => String(e.source));
    throw new KilnError(
      'MIXED_MANIFEST_TYPES',
      `the sources mix OCI manifests (${[...new Set(named(false))].join(', ')}) and Docker v2 manifests (${[...new Set(named(true))].join(', ')})`,
      {
        hint: 'build every source in one format (kiln build --image-format); Kiln does not convert manifests, which would change their digests',
        exitCode: 2,
      },
    );
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests: kept.map((e) => e.descriptor) };
  const bytes = Buffer.from(JSON.stringify(index), 'utf8');
  return { index, bytes, digest: sha256Digest(bytes), mediaType, entries: kept };
}

const pinned = (where: Repository, digest: Digest) =>
  createReference(where.registry, where.repository, undefined, digest);
const sameRepository = (a: Repository, b: Repository) =>
  a.registry === b.registry && a.repository === b.repository;
/** Just the repository (events spread it; a Reference would bring its tag along). */
const repositoryOf = ({ registry, repository }: Repository): Repository => ({ registry, repository });

/** The entries a source contributes: an index's own entries, or the image itself with its config's platform. */
async function entriesOf(client: RegistryClient, source: Reference, store: BlobStore): Promise<IndexEntry[]> {
  const fetched = await getManifest(client, source);
  if (fetched === undefined) {
    throw new KilnError('MANIFEST_NOT_FOUND', `${source} not found`, {
      hint: 'push every per-platform image before joining them',
    });
  }
  const json: unknown = JSON.parse(fetched.bytes.toString('utf8'));
  if (isIndexMediaType(fetched.mediaType)) {
    return parseIndex(json).manifests.map((descriptor) => ({ descriptor, source }));
  }
  const manifest = parseManifest(json);
  await fetchBlob(client, source, manifest.config, store);
  const platform = platformOfConfig(parseImageConfig(await store.readBytes(manifest.config.digest)));
  const descriptor: Descriptor = {
    mediaType: fetched.mediaType,
    digest: fetched.digest,
    size: fetched.bytes.byteLength,
    platform,
  };
  return [{ descriptor, source }];
}

/**
 * Copies a manifest (an index with its children) by digest from one repository to another, its
 * blobs first (mounted within a registry, else downloaded into the store and uploaded), so the
 * target never names what it lacks. A manifest the target holds already is left as is.
 */
async function copyManifest(
  client: RegistryClient,
  from: Repository,
  to: Repository,
  digest: Digest,
  store: BlobStore,
): Promise<void> {
  if ((await getManifest(client, pinned(to, digest))) !== undefined) return;
  const fetched = await getManifest(client, pinned(from, digest));
  if (fetched === undefined) {
    throw new KilnError('MANIFEST_NOT_FOUND', `${pinned(from, digest)} not found`, {
      hint: 'an index source names a manifest its repository does not hold',
    });
  }
  const json: unknown = JSON.parse(fetched.bytes.toString('utf8'));
  if (isIndexMediaType(fetched.mediaType)) {
    for (const child of parseIndex(json).manifests) await copyManifest(client, from, to, child.digest, store);
  } else {
    const manifest = parseManifest(json);
    // Foreign (non-distributable) layers stay where their `urls` point, as registries expect.
    const blobs = [manifest.config, ...manifest.layers].filter(
      (blob) => blob.mediaType !== MediaType.dockerForeignLayerGzip && blob.urls === undefined,
    );
    await mapConcurrent(blobs, 4, (blob) =>
      ensureBlob(client, to, blob, {
        source: store,
        mountFrom: [from],
        fetchMissing: (missing) => fetchBlob(client, from, missing, store),
      }),
    );
  }
  await putManifest(client, pinned(to, digest), fetched.bytes, fetched.mediaType);
}

/**
 * `kiln index create`: joins images (and the entries of indexes) into one index pushed to every
 * destination tag. Manifests from another repository are copied into each destination's first.
 */
export async function createIndex(
  client: RegistryClient,
  sources: Reference[],
  destinations: Reference[],
  options: CreateIndexOptions,
): Promise<CreatedIndex> {
  const found = await mapConcurrent(sources, 4, (source) => entriesOf(client, source, options.store));
  const planned = planIndex(found.flat());
  for (const { descriptor, source } of planned.entries) {
    client.emit({
      type: 'index-entry',
      source: source.toString(),
      digest: descriptor.digest,
      platform: descriptor.platform ? formatPlatform(descriptor.platform) : 'unknown',
    });
  }
  if (options.dryRun) return { ...planned, pushed: [] };
  const targets: Repository[] = [];
  for (const destination of destinations) {
    if (!targets.some((t) => sameRepository(t, destination))) targets.push(repositoryOf(destination));
  }
  for (const target of targets) {
    for (const { descriptor, source } of planned.entries) {
      if (!sameRepository(source, target)) {
        await copyManifest(client, repositoryOf(source), target, descriptor.digest, options.store);
      }
    }
  }
  for (const destination of destinations) {
    await putManifest(client, destination, planned.bytes, planned.mediaType);
  }
  return { ...planned, pushed: destinations };
}
