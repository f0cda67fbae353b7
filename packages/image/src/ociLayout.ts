import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '@kiln/errors';
import { BlobStore } from './blobStore.ts';
import { type Digest, sha256Digest } from './digest.ts';
import { isIndexMediaType, MediaType } from './mediaTypes.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types.ts';
import { parseImageConfig, parseIndex, parseManifest } from './validateImageJson.ts';

/** The annotation OCI layouts use to name (tag) a manifest in index.json. */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';

export interface LayoutImage {
  manifest: ImageManifest;
  /** The manifest's exact bytes when it was already serialised (e.g. pushed); else it is serialised here. */
  manifestBytes?: Uint8Array;
  /** Written to the layout when given (it must hash to `manifest.config.digest`); else read from the store. */
  config?: ImageConfig;
  tag?: string;
  /** The descriptor's platform; default the config's. */
  platform?: Platform;
}

export interface WriteOciLayoutResult {
  /** The descriptors added to index.json, in order. */
  manifests: Descriptor[];
}

/**
 * Writes images into an OCI image layout at `dir`: `oci-layout`, `index.json` and every blob
 * (hardlinked from `store` when on the same file system, else copied). An existing layout is kept
 * and extended; an entry whose tag is written again is replaced.
 */
export async function writeOciLayout(
  dir: string,
  images: LayoutImage[],
  store: BlobStore,
): Promise<WriteOciLayoutResult> {
  await mkdir(dir, { recursive: true });
  const layoutStore = new BlobStore(dir);
  const added: Descriptor[] = [];
  for (const image of images) {
    const descriptor = await writeImageBlobs(layoutStore, image, store);
    if (image.tag !== undefined) descriptor.annotations = { [refNameAnnotation]: image.tag };
    added.push(descriptor);
  }
  await writeIndexJson(dir, added);
  return { manifests: added };
}

export interface LayoutImageIndex {
  /** One image per platform, in index order (`tag` ignored). */
  images: LayoutImage[];
  /** The index's media type: an OCI image index (default) or a Docker manifest list. */
  mediaType?: string;
  /** Each becomes an index.json entry naming the image index. */
  tags: string[];
}

export interface WriteOciIndexResult {
  /** The image index's descriptor (no annotations). */
  index: Descriptor;
  /** Each platform's manifest descriptor, with its platform. */
  manifests: Descriptor[];
}

/**
 * Writes a multi-platform image into an OCI image layout at `dir`: each platform's blobs and
 * manifest, the image index naming them with their platforms, and index.json entries (one per
 * tag) pointing at the image index. An existing layout is kept and extended as `writeOciLayout` does.
 */
export async function writeOciIndexLayout(
  dir: string,
  index: LayoutImageIndex,
  store: BlobStore,
): Promise<WriteOciIndexResult> {
  await mkdir(dir, { recursive: true });
  const layoutStore = new BlobStore(dir);
  const manifests: Descriptor[] = [];
  for (const image of index.images) manifests.push(await writeImageBlobs(layoutStore, image, store));
  const mediaType = index.mediaType ?? MediaType.ociIndex;
  const imageIndex: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  const { digest, size } = await layoutStore.write(Buffer.from(JSON.stringify(imageIndex), 'utf8'));
  const descriptor: Descriptor = { mediaType, digest, size };
  await writeIndexJson(
    dir,
    index.tags.map((tag) => ({ ...descriptor, annotations: { [refNameAnnotation]: tag } })),
  );
  return { index: descriptor, manifests };
}

/** Copies an image's layers and config into the layout and writes its manifest; returns its descriptor. */
async function writeImageBlobs(
  layoutStore: BlobStore,
  image: LayoutImage,
  store: BlobStore,
): Promise<Descriptor> {
  for (const layer of image.manifest.layers) await layoutStore.copyFrom(store, layer.digest);
  if (image.config !== undefined) {
    const written = await layoutStore.writeJson(image.config);
    if (written.digest !== image.manifest.config.digest) {
      throw new KilnError(
        'CONFIG_MISMATCH',
        `config serialises to ${written.digest} but the manifest names ${image.manifest.config.digest}`,
        { hint: 'pass the config blob through the store, or build the manifest from the same JSON' },
      );
    }
  } else {
    await layoutStore.copyFrom(store, image.manifest.config.digest);
  }
  const bytes = image.manifestBytes ?? Buffer.from(JSON.stringify(image.manifest), 'utf8');
  const { digest, size } = await layoutStore.write(bytes);
  const config = image.config ?? (await layoutStore.readJson<ImageConfig>(image.manifest.config.digest));
  return {
    mediaType: image.manifest.mediaType ?? MediaType.ociManifest,
    digest,
    size,
    platform: image.platform ?? platformOf(config),
  };
}

/** Adds entries to index.json; an entry whose tag is written again is replaced. */
async function writeIndexJson(dir: string, added: Descriptor[]): Promise<void> {
  const existing = await readIndexIfAny(dir);
  const newTags = new Set(
    added.map((d) => d.annotations?.[refNameAnnotation]).filter((t) => t !== undefined),
  );
  const kept = (existing?.manifests ?? []).filter((d) => {
    const tag = d.annotations?.[refNameAnnotation];
    return tag === undefined || !newTags.has(tag);
  });
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...kept, ...added],
  };
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  // The store's temp dir is not part of the layout; it is empty after successful writes.
  await rmdir(join(dir, 'blobs', '.tmp')).catch(() => {});
}

function platformOf(config: ImageConfig): Platform {
  const platform: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant !== undefined) platform.variant = config.variant;
  return platform;
}

async function readIndexIfAny(dir: string): Promise<ImageIndex | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch {
    return undefined;
  }
  return parseIndex(text);
}

export interface OciLayoutImage {
  manifest: ImageManifest;
  manifestDigest: Digest;
  /** The manifest's exact bytes (what its digest is of), for pushing as is. */
  manifestBytes: Uint8Array;
  manifestMediaType: string;
  config: ImageConfig;
  layers: Descriptor[];
  /** A blob store rooted in the layout, to read the layers from. */
  store: BlobStore;
  tag: string | undefined;
}

export interface ReadOciLayoutOptions {
  /** When index.json (or a nested index) lists several platforms; default linux and this machine's architecture. */
  platform?: Pick<Platform, 'os' | 'architecture'>;
}

/**
 * Reads one image from an OCI image layout: the manifest tagged `tag`, or the only one when no
 * tag is given. Nested indexes are followed to the manifest for the platform.
 */
export async function readOciLayout(
  dir: string,
  tag?: string,
  options: ReadOciLayoutOptions = {},
): Promise<OciLayoutImage> {
  let layoutText: string;
  try {
    layoutText = await readFile(join(dir, 'oci-layout'), 'utf8');
  } catch (error) {
    throw new KilnError('INVALID_OCI_LAYOUT', `${dir} is not an OCI image layout (no oci-layout file)`, {
      cause: error,
    });
  }
  let version: unknown;
  try {
    version = (JSON.parse(layoutText) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {}
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new KilnError('INVALID_OCI_LAYOUT', `${dir}/oci-layout: expected imageLayoutVersion 1.x`);
  }
  const index = await readIndexIfAny(dir);
  if (index === undefined) throw new KilnError('INVALID_OCI_LAYOUT', `${dir} has no index.json`);
  // The layout is the user's: a corrupt blob in it is reported, never removed.
  const store = new BlobStore(dir, { dropCorrupt: false });

  let candidates = index.manifests;
  if (tag !== undefined) {
    candidates = candidates.filter((d) => d.annotations?.[refNameAnnotation] === tag);
    if (candidates.length === 0) {
      const tags = index.manifests.map((d) => d.annotations?.[refNameAnnotation]).filter(Boolean);
      throw new KilnError('IMAGE_NOT_FOUND', `no image tagged "${tag}" in ${dir}`, {
        hint: tags.length > 0 ? `tags in the layout: ${tags.join(', ')}` : 'the layout has no tagged images',
      });
    }
  }
  let descriptor = pickPlatform(candidates, options.platform, dir);
  // Follow nested indexes (a multi-platform image) down to one manifest.
  for (let depth = 0; isIndexMediaType(descriptor.mediaType); depth++) {
    if (depth > 4) throw new KilnError('INVALID_OCI_LAYOUT', `${dir}: indexes nested too deeply`);
    const nested = parseIndex(await store.readBytes(descriptor.digest));
    descriptor = pickPlatform(nested.manifests, options.platform, dir);
  }
  const manifestBytes = await store.readBytes(descriptor.digest);
  const manifest = parseManifest(manifestBytes);
  const config = parseImageConfig(await store.readBytes(manifest.config.digest));
  return {
    manifest,
    manifestDigest: sha256Digest(manifestBytes),
    manifestBytes,
    manifestMediaType: manifest.mediaType ?? descriptor.mediaType,
    config,
    layers: manifest.layers,
    store,
    tag: descriptor.annotations?.[refNameAnnotation] ?? tag,
  };
}

const nodeArchToOci: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le' };

function pickPlatform(
  descriptors: Descriptor[],
  wanted: Pick<Platform, 'os' | 'architecture'> | undefined,
  dir: string,
): Descriptor {
  if (descriptors.length === 0)
    throw new KilnError('IMAGE_NOT_FOUND', `${dir}: the index lists no manifests`);
  if (descriptors.length === 1) return descriptors[0]!;
  const target = wanted ?? { os: 'linux', architecture: nodeArchToOci[process.arch] ?? process.arch };
  const matches = descriptors.filter(
    (d) => d.platform?.os === target.os && d.platform.architecture === target.architecture,
  );
  if (matches.length === 1) return matches[0]!;
  throw new KilnError(
    'AMBIGUOUS_IMAGE',
    `${dir} holds ${descriptors.length} images and ${matches.length} of them are for ${target.os}/${target.architecture}`,
    { hint: 'name the image with DIR:TAG' },
  );
}
