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
  /** Where the image was read from (a mirror, or the registry itself), pinned: where its blobs are. */
  source: Reference;
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
 * `fetchLayers` is false, every layer into the store, each verified against its digest. A
 * reference whose registry has mirrors (`registryMap`, and `mirrors` for Docker Hub) goes to them
 * first, in order, then to its own registry unless `skipDefaultRegistryFallback`.
 */
export async function pullImage(
  client: RegistryClient,
  reference: Reference,
  options: PullImageOptions,
): Promise<PulledImage> {
  const mirrors = mirrorsOf(client, reference.registry);
  for (const mirror of mirrors) {
    const mirrored = mirrorReference(mirror, reference);
    try {
      const image = await pullRetrying(client, mirrored, options);
      return { ...image, reference: withDigest(reference, image.manifestDigest) };
    } catch (error) {
      client.emit({
        type: 'mirror-failed',
        mirror,
        reason: redactSecrets(error instanceof Error ? error.message : String(error)),
      });
    }
  }
  if (mirrors.length > 0 && client.skipDefaultRegistryFallback) {
    throw new KilnError(
      'MIRRORS_EXHAUSTED',
      `${reference} was found on none of the mirrors of ${reference.registry} (${mirrors.join(', ')})`,
      { hint: `--skip-default-registry-fallback forbids pulling from ${reference.registry} itself` },
    );
  }
  return pullRetrying(client, reference, options);
}

/** The mirrors a registry's images are pulled from first: `registryMap` entries, then Docker Hub's `mirrors`. */
export function mirrorsOf(client: RegistryClient, registry: string): string[] {
  const map = client.registryMap;
  const mirrors = [...(map[registry] ?? [])];
  if (registry === dockerHubRegistry) mirrors.push(...(map['docker.io'] ?? []), ...client.mirrors);
  return [...new Set(mirrors)];
}

/** Kaniko's `--image-download-retry`: the whole pull again, a second apart, after any failure. */
async function pullRetrying(
  client: RegistryClient,
  reference: Reference,
  options: PullImageOptions,
): Promise<PulledImage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pullFrom(client, reference, options);
    } catch (error) {
      if (attempt > client.imageDownloadRetries) throw error;
      client.emit({
        type: 'retry',
        registry: reference.registry,
        operation: `pull ${reference}`,
        attempt,
        delayMs: 1000,
        reason: redactSecrets(error instanceof Error ? error.message : String(error)),
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
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
    source: withDigest(reference, fetched.digest),
    manifestDigest: fetched.digest,
    manifest,
    manifestBytes: fetched.bytes,
    manifestMediaType: manifest.mediaType ?? fetched.mediaType,
    ...(indexDigest === undefined ? {} : { indexDigest }),
    config,
    layers: manifest.layers,
  };
}
