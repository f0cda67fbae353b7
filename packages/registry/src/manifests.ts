import { KilnError } from '@kiln/errors';
import { type Digest, MediaType, manifestIdentifier, type Reference, sha256Digest } from '@kiln/image';
import { headerValue, type RegistryClient, type RegistryRequest } from './registryClient.ts';

/** Every manifest kind Kiln reads: OCI and Docker v2, single images and indexes. */
export const manifestAccept = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

export interface FetchedManifest {
  /** The exact bytes (what the digest is of). */
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** Fetches a manifest or index by tag or digest; undefined when the registry has no such manifest. */
export async function getManifest(
  client: RegistryClient,
  reference: Reference,
): Promise<FetchedManifest | undefined> {
  const identifier = manifestIdentifier(reference);
  const request: RegistryRequest = {
    registry: reference.registry,
    repository: reference.repository,
    actions: 'pull',
    method: 'GET',
    url: `/v2/${reference.repository}/manifests/${identifier}`,
    headers: { accept: manifestAccept },
    operation: `pull manifest ${identifier}`,
  };
  return client.retry(request, async () => {
    const response = await client.send(request);
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    if (response.statusCode !== 200) throw await client.statusError(request, response);
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (reference.digest !== undefined && digest !== reference.digest) {
      throw new KilnError(
        'DIGEST_MISMATCH',
        `manifest ${reference.digest} from ${reference.registry}/${reference.repository} hashes to ${digest}`,
        { hint: 'the registry or a proxy altered the manifest; retry, or check the mirror' },
      );
    }
    const contentType = headerValue(response.headers['content-type'])?.split(';')[0]?.trim();
    let mediaType = contentType;
    if (mediaType === undefined || mediaType === 'application/json' || mediaType === 'text/plain') {
      mediaType =
        (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? MediaType.ociManifest;
    }
    return { bytes, mediaType, digest };
  });
}

/** Stores a manifest under the reference's tag (or digest); returns the digest of the bytes sent. */
export async function putManifest(
  client: RegistryClient,
  reference: Reference,
  bytes: Uint8Array,
  mediaType: string,
): Promise<Digest> {
  const identifier = reference.tag ?? manifestIdentifier(reference);
  const digest = sha256Digest(bytes);
  const request: RegistryRequest = {
    registry: reference.registry,
    repository: reference.repository,
    actions: 'pull,push',
    method: 'PUT',
    url: `/v2/${reference.repository}/manifests/${identifier}`,
    headers: { 'content-type': mediaType },
    body: () => Buffer.from(bytes),
    operation: `push manifest ${identifier}`,
  };
  await client.retry(request, async () => {
    const response = await client.sendExpecting(request, [200, 201]);
    await response.body.dump();
  });
  client.emit({ type: 'manifest-pushed', reference: reference.toString(), digest });
  return digest;
}
