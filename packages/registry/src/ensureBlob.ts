import { KilnError } from '@kiln/errors';
import type { BlobStore, Descriptor } from '@kiln/image';
import { cancelUpload, hasBlob, type Repository, tryMountBlob } from './blobs.ts';
import type { RegistryClient } from './registryClient.ts';
import { uploadBlob } from './uploadBlob.ts';

export interface EnsureBlobOptions {
  /** Holds the bytes when neither a check nor a mount places the blob. */
  source: BlobStore;
  /**
   * Repositories that may hold the blob already (a base image's, the layer cache's), tried in order;
   * those on another registry, or the target itself, are passed over (a mount is within one registry).
   */
  mountFrom?: Repository[];
  /** Puts the blob into `source` first when it must be uploaded but was never downloaded. */
  fetchMissing?: (blob: Descriptor) => Promise<void>;
}

/** How the blob got there: it was there, a mount linked it, or its bytes were sent. */
export type BlobPlacement = 'exists' | 'mounted' | 'uploaded';

/**
 * Makes sure a repository holds a blob, as cheaply as the registry allows: HEAD (with push access,
 * so the token covers what follows), then cross-repository mounts, then an upload from the store.
 * The one place a push, the layer cache and anything else that publishes a blob decide this.
 */
export async function ensureBlob(
  client: RegistryClient,
  target: Repository,
  blob: Descriptor,
  options: EnsureBlobOptions,
): Promise<BlobPlacement> {
  const ahead = placedAhead.get(client)?.get(placementKey(target, blob.digest));
  if (ahead !== undefined) {
    // Placed (or being placed) while the build ran: its outcome, not a second round of requests.
    // One that failed is done again here, so the push reports the real error.
    const placed = await ahead.catch(() => undefined);
    if (placed !== undefined) return placed;
  }
  return place(client, target, blob, options);
}

/** Placements started ahead of the push, per client, by `${registry}/${repository}@${digest}`. */
const placedAhead = new WeakMap<RegistryClient, Map<string, Promise<BlobPlacement>>>();

const placementKey = (target: Repository, digest: string) =>
  `${target.registry}/${target.repository}@${digest}`;

/**
 * Starts placing a blob now (a layer the build just wrote, while its next steps run): a later
 * `ensureBlob` of the same blob into the same repository with this client awaits this one instead
 * of sending its own requests. Never rejects; a failure is left for that later call to repeat.
 */
export function placeBlobAhead(
  client: RegistryClient,
  target: Repository,
  blob: Descriptor,
  options: EnsureBlobOptions,
): Promise<void> {
  let placements = placedAhead.get(client);
  if (placements === undefined) {
    placements = new Map();
    placedAhead.set(client, placements);
  }
  const key = placementKey(target, blob.digest);
  const existing = placements.get(key);
  if (existing !== undefined)
    return existing.then(
      () => undefined,
      () => undefined,
    );
  const placing = place(client, target, blob, options);
  placements.set(key, placing);
  return placing.then(
    () => undefined,
    () => undefined,
  );
}

async function place(
  client: RegistryClient,
  target: Repository,
  blob: Descriptor,
  options: EnsureBlobOptions,
): Promise<BlobPlacement> {
  if (await hasBlob(client, target, blob.digest, 'pull,push')) {
    client.emit({ type: 'blob-skipped', ...target, digest: blob.digest, reason: 'exists' });
    return 'exists';
  }
  // A declined mount opens an upload session: the last one is kept for the upload (two requests
  // fewer per new blob), the others are cancelled.
  let upload: string | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from.registry !== target.registry || from.repository === target.repository) continue;
    if (upload !== undefined) await cancelUpload(client, target, upload);
    const outcome = await tryMountBlob(client, target, blob.digest, from.repository);
    if (outcome.mounted) return 'mounted';
    upload = outcome.upload;
  }
  try {
    if (options.fetchMissing && !(await options.source.has(blob.digest))) await options.fetchMissing(blob);
  } catch (error) {
    if (upload !== undefined) await cancelUpload(client, target, upload);
    throw error;
  }
  if (upload === undefined) {
    await uploadBlob(client, target, blob, options.source);
    return 'uploaded';
  }
  try {
    await uploadBlob(client, target, blob, options.source, { upload });
  } catch (error) {
    // A registry whose declined mount opened a session it then refuses: a session of its own.
    if (!(error instanceof KilnError && error.code === 'REGISTRY_HTTP_ERROR')) throw error;
    await uploadBlob(client, target, blob, options.source);
  }
  return 'uploaded';
}
