import type { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import type { BlobStore, Descriptor, Digest } from '@kiln/image';
import type { RegistryEvent } from './events.ts';
import { headerValue, type RegistryClient, type RegistryRequest } from './registryClient.ts';

/** A repository on a registry. */
export interface Repository {
  registry: string;
  repository: string;
}

/** HEAD a blob: true when the registry already has it in this repository. */
export async function hasBlob(
  client: RegistryClient,
  target: Repository,
  digest: Digest,
  actions = 'pull',
): Promise<boolean> {
  const request: RegistryRequest = {
    ...target,
    actions,
    method: 'HEAD',
    url: `/v2/${target.repository}/blobs/${digest}`,
    operation: `check blob ${digest}`,
  };
  return client.retry(request, async () => {
    const response = await client.sendExpecting(request, [200, 404]);
    await response.body.dump();
    return response.statusCode === 200;
  });
}

/**
 * Cross-repository mount: asks the registry to link a blob it holds in `fromRepository`. True
 * when mounted; false when the registry declined (it then opened an upload, which is cancelled).
 */
export async function mountBlob(
  client: RegistryClient,
  target: Repository,
  digest: Digest,
  fromRepository: string,
): Promise<boolean> {
  const outcome = await tryMountBlob(client, target, digest, fromRepository);
  if (outcome.upload !== undefined) await cancelUpload(client, target, outcome.upload);
  return outcome.mounted;
}

/** A mount's answer: mounted, or declined with the upload session the registry opened instead (if any). */
export type MountOutcome = { mounted: true; upload?: undefined } | { mounted: false; upload?: string };

/**
 * mountBlob without cancelling: a registry that declines a mount answers 202 with an upload
 * session (distribution spec), which the caller may upload the bytes to (saving a DELETE and a
 * POST) or must cancel with `cancelUpload`.
 */
export async function tryMountBlob(
  client: RegistryClient,
  target: Repository,
  digest: Digest,
  fromRepository: string,
): Promise<MountOutcome> {
  const request: RegistryRequest = {
    ...target,
    actions: 'pull,push',
    extraScopes: [`repository:${fromRepository}:pull`],
    method: 'POST',
    url: `/v2/${target.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`,
    operation: `mount blob ${digest} from ${fromRepository}`,
  };
  return client.retry(request, async (): Promise<MountOutcome> => {
    const response = await client.send(request);
    await response.body.dump();
    if (response.statusCode === 201) {
      client.emit({ type: 'blob-mounted', ...target, digest, from: fromRepository });
      return { mounted: true };
    }
    const location = headerValue(response.headers.location);
    if (response.statusCode >= 500 || response.statusCode === 429)
      throw await client.statusError(request, response);
    return response.statusCode === 202 && location !== undefined
      ? { mounted: false, upload: location }
      : { mounted: false };
  });
}

/** Cancels an upload session nobody will finish; best effort (the registry expires it anyway). */
export async function cancelUpload(
  client: RegistryClient,
  target: Repository,
  location: string,
): Promise<void> {
  await client
    .send({
      ...target,
      actions: 'pull,push',
      method: 'DELETE',
      url: location,
      operation: 'cancel upload',
    })
    .then((r) => r.body.dump())
    .catch(() => {});
}

const progressStep = 4 * 1024 * 1024;

/** Counts bytes as they pass, reporting progress every few MiB and at the end. */
export async function* countProgress(
  source: AsyncIterable<Uint8Array>,
  report: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let reported = 0;
  for await (const chunk of source) {
    bytes += chunk.byteLength;
    if (bytes - reported >= progressStep) {
      reported = bytes;
      report(bytes);
    }
    yield chunk;
  }
  if (bytes !== reported) report(bytes);
}

/**
 * Downloads a blob into the store, verified against its digest (a mismatch is refused, nothing
 * kept, and retried as a transfer error). A blob already in the store is not downloaded again.
 */
export async function fetchBlob(
  client: RegistryClient,
  source: Repository,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  store: BlobStore,
): Promise<void> {
  const { digest } = descriptor;
  if (await store.has(digest)) {
    client.emit({ type: 'blob-skipped', ...source, digest, reason: 'in-store' });
    return;
  }
  const request: RegistryRequest = {
    ...source,
    actions: 'pull',
    method: 'GET',
    url: `/v2/${source.repository}/blobs/${digest}`,
    operation: `pull blob ${digest}`,
  };
  await client.retry(request, async () => {
    let response = await client.send(request);
    // Registries hand big blobs to a CDN; the redirect target gets no credentials (see send()).
    for (let hops = 0; response.statusCode >= 301 && response.statusCode <= 308 && hops < 5; hops++) {
      const location = headerValue(response.headers.location);
      await response.body.dump();
      if (location === undefined) break;
      response = await client.send({
        ...request,
        url: new URL(location, client.baseUrl(source.registry)).toString(),
      });
    }
    if (response.statusCode !== 200) throw await client.statusError(request, response);
    const progress = (bytes: number): void =>
      client.emit({
        type: 'blob-progress',
        direction: 'pull',
        ...source,
        digest,
        bytes,
        total: descriptor.size,
      });
    try {
      await store.write(countProgress(response.body as Readable, progress), { expectedDigest: digest });
    } catch (error) {
      response.body.destroy();
      throw error;
    }
  });
  const event: RegistryEvent = {
    type: 'blob-done',
    direction: 'pull',
    ...source,
    digest,
    size: descriptor.size,
  };
  client.emit(event);
}

/** Throws the BlobStore's not-found as a clear push error. */
export async function blobSize(store: BlobStore, digest: Digest): Promise<number> {
  try {
    return await store.size(digest);
  } catch (error) {
    throw new KilnError('BLOB_NOT_FOUND', `blob ${digest} is not in ${store.root}`, {
      hint: 'the image references a blob the local store does not hold',
      cause: error,
    });
  }
}
