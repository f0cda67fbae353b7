import type { BlobStore, Descriptor, Digest, Reference } from '@kiln/image';
import {
  createReference,
  hostPlatform,
  MediaType,
  parseReference,
  writeDockerArchive,
  writeMultiPlatformArchive,
  writeOciIndexLayout,
  writeOciLayout,
} from '@kiln/image';
import { pushImage, putManifest, type RegistryClient, type Repository } from '@kiln/registry';
import type { BuildEvent } from '../events.ts';
import { asOciManifest, type BuiltImage } from '../image/assembleImage.ts';
import type { BuiltIndex } from '../image/assembleIndex.ts';
import { checkOutputDirectory } from './outputTarget.ts';
import { writeOutputFile, writeOutputText } from './writeOutputFile.ts';

export interface OutputOptions {
  destinations: string[];
  noPush: boolean;
  tarPath?: string;
  ociLayoutPath?: string;
  digestFile?: string;
  imageNameWithDigestFile?: string;
  imageNameTagWithDigestFile?: string;
}

export interface OutputEnvironment {
  store: BlobStore;
  /** Needed unless --no-push. */
  client?: RegistryClient;
  onEvent?: (event: BuildEvent) => void;
  /** Repositories that may hold the layers (the base's, the layer cache's): mounted rather than uploaded. */
  mountFrom?: Reference[];
  /** Where the build found a blob: mounted from there first. */
  sourceOf?: (digest: Digest) => Repository | undefined;
  /** Fetches a blob the store lacks (never downloaded) when the registry refuses to mount it. */
  fetchMissing?: (blob: Descriptor) => Promise<void>;
  /** Stops the push and the file writes; nothing further is written once it is aborted. */
  signal?: AbortSignal;
  /** Where a tar bound for a device or fifo is staged (the build's work dir); the temp dir if absent. */
  scratchDir?: string;
}

/** Destinations parsed up front, so a bad --destination fails before any work is done. */
export function parseDestinations(destinations: string[]): Reference[] {
  return destinations.map((text) => parseReference(text));
}

/**
 * Push, docker-archive tar, OCI layout and the digest files, as Kaniko writes them; for a
 * multi-platform build (an index), as BuildKit writes them, the digest files naming the index.
 */
export async function writeOutputs(
  image: BuiltImage | BuiltIndex,
  options: OutputOptions,
  env: OutputEnvironment,
): Promise<string[]> {
  const emit = (event: BuildEvent) => env.onEvent?.(event);
  const references = parseDestinations(options.destinations);
  const pushed: string[] = [];
  const fileOptions = fileOptionsOf(env);
  env.signal?.throwIfAborted();
  if ('index' in image) {
    await writeIndexImageOutputs(image, options, env, references, pushed);
  } else {
    await writeImageOutputs(image, options, env, references, pushed);
  }
  await writeDigestFiles(image.digest, options, references, emit, fileOptions);
  return pushed;
}

type FileOptions = { signal?: AbortSignal; scratchDir?: string };

/** What writing a file needs of the environment: the signal and where to stage. */
function fileOptionsOf(env: OutputEnvironment): FileOptions {
  return {
    ...(env.signal ? { signal: env.signal } : {}),
    ...(env.scratchDir ? { scratchDir: env.scratchDir } : {}),
  };
}

async function writeImageOutputs(
  image: BuiltImage,
  options: OutputOptions,
  env: OutputEnvironment,
  references: Reference[],
  pushed: string[],
): Promise<void> {
  const emit = (event: BuildEvent) => env.onEvent?.(event);
  const fileOptions = fileOptionsOf(env);
  if (!options.noPush && references.length > 0) {
    if (!env.client) throw new Error('writeOutputs: a registry client is needed to push');
    const result = await pushImage(
      env.client,
      { manifest: image.manifest, manifestBytes: image.manifestBytes, store: env.store },
      references,
      {
        ...(env.mountFrom ? { mountFrom: env.mountFrom } : {}),
        ...(env.fetchMissing ? { fetchMissing: env.fetchMissing } : {}),
        ...(env.sourceOf ? { sourceOf: env.sourceOf } : {}),
        ...(env.signal ? { signal: env.signal } : {}),
      },
    );
    for (const destination of result.pushed) {
      emit({ type: 'pushed', destination: destination.reference, digest: result.digest });
      pushed.push(destination.reference);
    }
  }
  if (options.ociLayoutPath) {
    env.signal?.throwIfAborted();
    await checkOutputDirectory('--oci-layout-path', options.ociLayoutPath);
    // One index entry per destination tag (`latest` without one), so `oci:DIR:TAG` finds it.
    const tags = [...new Set(references.map((reference) => reference.tag ?? 'latest'))];
    const manifest = asOciManifest(image.manifest);
    await writeOciLayout(
      options.ociLayoutPath,
      (tags.length > 0 ? tags : ['latest']).map((tag) => ({
        manifest,
        ...(manifest === image.manifest ? { manifestBytes: image.manifestBytes } : {}),
        config: image.config,
        tag,
      })),
      env.store,
    );
    emit({ type: 'output-written', kind: 'oci-layout', path: options.ociLayoutPath });
  }
  if (options.tarPath) {
    const tags = references.map((reference) => reference.toString());
    await writeOutputFile(
      '--tar-path',
      options.tarPath,
      (file) => writeDockerArchive(file, [{ manifest: image.manifest, tags }], env.store),
      fileOptions,
    );
    emit({ type: 'output-written', kind: 'tar', path: options.tarPath });
  }
}

/**
 * A multi-platform image: each platform's manifest pushed by digest (its blobs first), then the
 * index by every destination's tag; the layout's and the tar's index.json name the image index.
 */
async function writeIndexImageOutputs(
  built: BuiltIndex,
  options: OutputOptions,
  env: OutputEnvironment,
  references: Reference[],
  pushed: string[],
): Promise<void> {
  const emit = (event: BuildEvent) => env.onEvent?.(event);
  const fileOptions = fileOptionsOf(env);
  if (!options.noPush && references.length > 0) {
    const client = env.client;
    if (!client) throw new Error('writeOutputs: a registry client is needed to push');
    const byDigest = (digest: BuiltImage['digest']) =>
      references.map((reference) =>
        createReference(reference.registry, reference.repository, undefined, digest),
      );
    for (const { image } of built.images) {
      env.signal?.throwIfAborted();
      await pushImage(
        client,
        { manifest: image.manifest, manifestBytes: image.manifestBytes, store: env.store },
        byDigest(image.digest),
        {
          ...(env.mountFrom ? { mountFrom: env.mountFrom } : {}),
          ...(env.fetchMissing ? { fetchMissing: env.fetchMissing } : {}),
          ...(env.sourceOf ? { sourceOf: env.sourceOf } : {}),
          ...(env.signal ? { signal: env.signal } : {}),
        },
      );
    }
    // Every manifest is in place: only now do the tags point at the index.
    for (const reference of references) {
      env.signal?.throwIfAborted();
      await putManifest(client, reference, built.indexBytes, built.mediaType);
      emit({ type: 'pushed', destination: reference.toString(), digest: built.digest });
      pushed.push(reference.toString());
    }
  }
  // OCI layouts and archives hold OCI media types (skopeo and umoci find nothing else by tag).
  const layoutImages = built.images.map(({ platform, image }) => {
    const manifest = asOciManifest(image.manifest);
    return {
      platform,
      manifest,
      ...(manifest === image.manifest ? { manifestBytes: image.manifestBytes } : {}),
      config: image.config,
    };
  });
  if (options.ociLayoutPath) {
    env.signal?.throwIfAborted();
    await checkOutputDirectory('--oci-layout-path', options.ociLayoutPath);
    const tags = [...new Set(references.map((reference) => reference.tag ?? 'latest'))];
    await writeOciIndexLayout(
      options.ociLayoutPath,
      { images: layoutImages, mediaType: MediaType.ociIndex, tags: tags.length > 0 ? tags : ['latest'] },
      env.store,
    );
    emit({ type: 'output-written', kind: 'oci-layout', path: options.ociLayoutPath });
  }
  if (options.tarPath) {
    const tags = [...new Set(references.map((reference) => reference.tag ?? 'latest'))];
    await writeOutputFile(
      '--tar-path',
      options.tarPath,
      (file) =>
        writeMultiPlatformArchive(
          file,
          {
            images: layoutImages,
            tags: tags.length > 0 ? tags : ['latest'],
            repoTags: references.map((reference) => reference.toString()),
            // `docker load` keeps one image per tag: the one this machine runs.
            tagPlatform: hostPlatform(),
          },
          env.store,
        ),
      fileOptions,
    );
    emit({ type: 'output-written', kind: 'tar', path: options.tarPath });
  }
}

async function writeDigestFiles(
  digest: BuiltImage['digest'],
  options: OutputOptions,
  references: Reference[],
  emit: (event: BuildEvent) => void,
  fileOptions: FileOptions,
): Promise<void> {
  const image = { digest };
  if (options.digestFile) {
    await writeOutputText('--digest-file', options.digestFile, image.digest, fileOptions);
    emit({ type: 'output-written', kind: 'digest-file', path: options.digestFile });
  }
  if (options.imageNameWithDigestFile) {
    const lines = references.map(
      (reference) => `${reference.registry}/${reference.repository}@${image.digest}`,
    );
    await writeOutputText(
      '--image-name-with-digest-file',
      options.imageNameWithDigestFile,
      `${lines.join('\n')}\n`,
      fileOptions,
    );
    emit({ type: 'output-written', kind: 'digest-file', path: options.imageNameWithDigestFile });
  }
  if (options.imageNameTagWithDigestFile) {
    const lines = references.map((reference) => `${reference.toString()}@${image.digest}`);
    await writeOutputText(
      '--image-name-tag-with-digest-file',
      options.imageNameTagWithDigestFile,
      `${lines.join('\n')}\n`,
      fileOptions,
    );
    emit({ type: 'output-written', kind: 'digest-file', path: options.imageNameTagWithDigestFile });
  }
}
