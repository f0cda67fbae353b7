import { KilnError } from '@kiln/errors';
import {
  type BlobStore,
  createReference,
  type Descriptor,
  type Digest,
  dockerHubRegistry,
  hostPlatform,
  type ImageConfig,
  type ImageManifest,
  isIndexMediaType,
  type Platform,
  parseImageConfig,
  parseIndex,
  parseManifest,
  type Reference,
  withDigest,
} from '@kiln/image';
import { fetchBlob } from './blobs.ts';
import { getManifest } from './manifests.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import { selectPlatform } from './platform.ts';
import { redactSecrets } from './redact.ts';
import type { RegistryClient } from './registryClient.ts';

export interface PullImageOptions {
  store: BlobStore;
  /** Which image of an index; default linux and this machine's architecture. */
  platform?: Platform;
  /** false: manifest and config only (layers fetched later, lazily); default true. */
  fetchLayers?: boolean;
}

export interface PulledImage {
  /** What was asked for, pinned to the manifest digest (on the registry it came from). */
  reference: Reference;
  manifestDigest: Digest;
  manifest: ImageManifest;
  /** The manifest's exact bytes (also in the store), for writing a layout or pushing as is. */
  manifestBytes: Buffer;
  manifestMediaType: string;
  /** Set when the reference named an index and a platform was picked from it. */
  indexDigest?: Digest;
  config: ImageConfig;
  layers: Descriptor[];
}

/**
 * Pulls an image: manifest (or index → the platform's manifest), config and, unless
 * `fetchLayers` is false, every layer into the store, each verified against its digest. Docker
 * Hub references go to the client's mirrors first, then to Docker Hub.
 */
export async function pullImage(
  client: RegistryClient,
  reference: Reference,
  options: PullImageOptions,
): Promise<PulledImage> {
  if (reference.registry === dockerHubRegistry) {
    for (const mirror of client.mirrors) {
      const mirrored = mirrorReference(mirror, reference);
      try {
        const image = await pullFrom(client, mirrored, options);
        return { ...image, reference: withDigest(reference, image.manifestDigest) };
      } catch (error) {
        client.emit({
          type: 'mirror-failed',
          mirror,
          reason: redactSecrets(error instanceof Error ? error.message : String(error)),
        });
      }
    }
  }
  return pullFrom(client, reference, options);
}

/** `mirror.example.com[:port][/prefix]` + `index.docker.io/library/alpine` → `mirror…/prefix/library/alpine`. */
export function mirrorReference(mirror: string, reference: Reference): Reference {
  const host = mirror.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = host.indexOf('/');
  const registry = slash < 0 ? host : host.slice(0, slash);
  const prefix = slash < 0 ? '' : `${host.slice(slash + 1)}/`;
  return createReference(registry, `${prefix}${reference.repository}`, reference.tag, reference.digest);
}

async function pullFrom(
  client: RegistryClient,
  reference: Reference,
  options: PullImageOptions,
): Promise<PulledImage> {
  const where = reference.toString();
  let fetched = await getManifest(client, reference);
  if (fetched === undefined) {
    throw new KilnError('MANIFEST_NOT_FOUND', `${where} not found: the registry has no manifest for it`, {
      hint: `check the repository ${reference.registry}/${reference.repository} and the tag or digest`,
    });
  }
  let indexDigest: Digest | undefined;
  if (isIndexMediaType(fetched.mediaType)) {
    indexDigest = fetched.digest;
    // Kept like the manifest, so a base pinned to the index's digest is found offline later.
    await options.store.write(fetched.bytes, { expectedDigest: fetched.digest });
    const chosen = selectPlatform(parseIndex(fetched.bytes), options.platform ?? hostPlatform(), where);
    const child = await getManifest(client, withDigest(reference, chosen.digest));
    if (child === undefined) {
      throw new KilnError(
        'MANIFEST_NOT_FOUND',
        `${where}: the index names ${chosen.digest}, which the registry does not have`,
      );
    }
    fetched = child;
  }
  const manifest = parseManifest(fetched.bytes);
  await options.store.write(fetched.bytes, { expectedDigest: fetched.digest });
  const source = { registry: reference.registry, repository: reference.repository };
  await fetchBlob(client, source, manifest.config, options.store);
  const config = parseImageConfig(await options.store.readBytes(manifest.config.digest));
  if (options.fetchLayers !== false) {
    await mapConcurrent(manifest.layers, client.concurrency, (layer) =>
      fetchBlob(client, source, layer, options.store),
    );
  }
  return {
    reference: withDigest(reference, fetched.digest),
    manifestDigest: fetched.digest,
    manifest,
    manifestBytes: fetched.bytes,
    manifestMediaType: manifest.mediaType ?? fetched.mediaType,
    ...(indexDigest === undefined ? {} : { indexDigest }),
    config,
    layers: manifest.layers,
  };
}
