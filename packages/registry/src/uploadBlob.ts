import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { KilnError } from '@kiln/errors';
import type { BlobStore, Descriptor } from '@kiln/image';
import { blobSize, countProgress, type Repository } from './blobs.ts';
import { headerValue, type RegistryClient, type RegistryRequest } from './registryClient.ts';

const readChunk = 1024 * 1024;

/**
 * Uploads a blob from the store: one POST and one streamed PUT per attempt, or, with the client's
 * `chunkSize`, PATCH chunks; a failed chunked upload resumes from the `Range` the registry reports
 * (or starts over when the registry dropped the session). Retries follow the client's policy.
 * `options.upload`: a session already open (a declined mount's), used instead of the first POST.
 */
export async function uploadBlob(
  client: RegistryClient,
  target: Repository,
  descriptor: Pick<Descriptor, 'digest'>,
  store: BlobStore,
  options: { upload?: string } = {},
): Promise<void> {
  const { digest } = descriptor;
  const size = await blobSize(store, digest);
  const file = store.path(digest);
  const base: Omit<RegistryRequest, 'method' | 'url'> = {
    ...target,
    actions: 'pull,push',
    operation: `push blob ${digest}`,
  };
  const progress = (offset: number) => (bytes: number) =>
    client.emit({
      type: 'blob-progress',
      direction: 'push',
      ...target,
      digest,
      bytes: offset + bytes,
      total: size,
    });
  const slice =
    (start: number, end: number): NonNullable<RegistryRequest['body']> =>
    () =>
      end < start
        ? Buffer.alloc(0)
        : Readable.from(
            countProgress(createReadStream(file, { start, end, highWaterMark: readChunk }), progress(start)),
            { objectMode: false },
          );

  let opened = options.upload;
  const startUpload = async (): Promise<string> => {
    // A session handed over is used once: a retry opens its own.
    if (opened !== undefined) {
      const location = opened;
      opened = undefined;
      return location;
    }
    const request: RegistryRequest = {
      ...base,
      method: 'POST',
      url: `/v2/${target.repository}/blobs/uploads/`,
    };
    const response = await client.sendExpecting(request, [202]);
    await response.body.dump();
    const location = headerValue(response.headers.location);
    if (location === undefined) {
      throw new KilnError(
        'REGISTRY_PROTOCOL_ERROR',
        `${target.registry} opened an upload without a Location header`,
      );
    }
    return location;
  };
  const finish = async (
    location: string,
    body: NonNullable<RegistryRequest['body']>,
    length: number,
  ): Promise<void> => {
    const url = new URL(location, client.baseUrl(target.registry));
    url.searchParams.set('digest', digest);
    const request: RegistryRequest = {
      ...base,
      method: 'PUT',
      url: url.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      body,
    };
    const response = await client.sendExpecting(request, [201, 204]);
    await response.body.dump();
  };

  const send = async (): Promise<void> => {
    const chunkSize = client.chunkSize;
    if (chunkSize === undefined || size <= chunkSize) {
      await client.retry(base, async () => {
        const location = await startUpload();
        await finish(location, slice(0, size - 1), size);
      });
    } else {
      let location: string | undefined;
      let offset = 0;
      await client.retry(base, async (attempt) => {
        if (location === undefined) {
          location = await startUpload();
          offset = 0;
        } else if (attempt > 0) {
          const resumed = await uploadOffset(client, base, location);
          if (resumed === undefined) {
            location = await startUpload();
            offset = 0;
          } else {
            ({ location, offset } = resumed);
            client.emit({ type: 'upload-resumed', ...target, digest, offset });
          }
        }
        while (offset < size) {
          const end = Math.min(offset + chunkSize, size) - 1;
          const request: RegistryRequest = {
            ...base,
            method: 'PATCH',
            url: location,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${end}`,
              'content-length': String(end - offset + 1),
            },
            body: slice(offset, end),
          };
          const response = await client.sendExpecting(request, [202, 204]);
          await response.body.dump();
          location = headerValue(response.headers.location) ?? location;
          offset = rangeEnd(headerValue(response.headers.range)) ?? end + 1;
        }
        await finish(location, () => Buffer.alloc(0), 0);
      });
    }
  };

  try {
    await send();
  } catch (error) {
    // The registry checks what it received against the digest (400 DIGEST_INVALID) and keeps
    // nothing; when the store's copy changed on disk, say so (BLOB_CORRUPT; the store drops it).
    if (error instanceof KilnError && error.code === 'REGISTRY_HTTP_ERROR') await store.verify(digest);
    throw error;
  }
  client.emit({ type: 'blob-done', direction: 'push', ...target, digest, size });
}

/** Where an interrupted upload stands: `GET` on its location answers 204 with `Range: 0-N`. */
async function uploadOffset(
  client: RegistryClient,
  base: Omit<RegistryRequest, 'method' | 'url'>,
  location: string,
): Promise<{ location: string; offset: number } | undefined> {
  const response = await client.send({ ...base, method: 'GET', url: location, operation: 'upload status' });
  await response.body.dump();
  if (response.statusCode !== 204) return undefined;
  return {
    location: headerValue(response.headers.location) ?? location,
    offset: rangeEnd(headerValue(response.headers.range)) ?? 0,
  };
}

/** `0-1023` → 1024 (the next byte to send); `bytes=0-1023` too. */
function rangeEnd(range: string | undefined): number | undefined {
  const match = /(\d+)-(\d+)/.exec(range ?? '');
  return match === null ? undefined : Number(match[2]) + 1;
}
